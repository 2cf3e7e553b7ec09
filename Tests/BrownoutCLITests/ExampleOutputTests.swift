import ChildProcesses
import Foundation
import ProcessTestSupport
import Synchronization
import Testing

/// Stored outputs, in the spirit of SimPy's `carwash.py` beside `carwash.out`: every scenario in
/// `experiments/` has the exact output of `brownout run` beside it (`NAME.out`), and every
/// `$ command` in the README's code blocks is followed by exactly what it prints.
///
/// `make examples` regenerates them (this suite with `BROWNOUT_UPDATE_EXAMPLES=1`); a change in
/// a stored output is a change in what the program prints, to be explained in the commit.
/// `make test` runs the commands with the release binaries (`BROWNOUT_RELEASE_BIN`): the
/// scenarios at their default replications take seconds there, minutes in a debug build.
@Suite("Stored example outputs", .serialized, .timeLimit(.minutes(15)))
struct ExampleOutputTests {
    static let repository = BuiltProducts.checkout
    static let updating = ProcessInfo.processInfo.environment["BROWNOUT_UPDATE_EXAMPLES"] == "1"

    static var scenarios: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("experiments").path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    @Test("every scenario prints exactly its stored summary (experiments/NAME.out)")
    func scenarioSummaries() async throws {
        let names = Self.scenarios
        #expect(names.count >= 6)
        for name in names {
            let command = "brownout run experiments/\(name).yaml --out out/\(name)"
            let printed = try await ExampleWorkspace.shared.run(command)
            let stored = Self.repository.appendingPathComponent("experiments/\(name).out")
            if Self.updating {
                try printed.write(to: stored, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try String(contentsOf: stored, encoding: .utf8)
            #expect(printed == expected, "experiments/\(name).out differs from what `\(command)` prints; run `make examples` and explain the change")
        }
    }

    @Test("every command in the README prints exactly what the README shows")
    func readmeExamples() async throws {
        let url = Self.repository.appendingPathComponent("README.md")
        let readme = try String(contentsOf: url, encoding: .utf8)
        let document = ReadmeExamples(readme)
        #expect(document.examples.count >= 6, "the README's examples were found")
        var outputs: [String] = []
        for example in document.examples {
            // CSV rows end in CRLF (RFC 4180); the README shows them as lines.
            let printed = try await ExampleWorkspace.shared.run(example.command).replacingOccurrences(of: "\r\n", with: "\n")
            outputs.append(printed)
            if !Self.updating {
                #expect(printed == example.output, "README: `\(example.command)` prints something else; run `make examples` and explain the change")
            }
        }
        if Self.updating {
            try document.replacingOutputs(with: outputs).write(to: url, atomically: true, encoding: .utf8)
        }
    }
}

/// A scratch directory that looks like the repository to the commands (`experiments/` and
/// `models/` linked in), shared by the examples so that a run's outputs are there for the
/// commands that read them, and each command runs once.
final class ExampleWorkspace: Sendable {
    static let shared = ExampleWorkspace()

    let directory: URL
    let binaries: String
    private let printed = Mutex<[String: String]>([:])

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-examples-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for folder in ["experiments", "models"] {
            try? FileManager.default.createSymbolicLink(
                at: directory.appendingPathComponent(folder),
                withDestinationURL: ExampleOutputTests.repository.appendingPathComponent(folder))
        }
        binaries = BuiltProducts.preferRelease.path
    }

    /// What `command` prints on stdout and stderr together, run by the shell in the workspace.
    func run(_ command: String) async throws -> String {
        // A trailing shell comment is for the reader: the same command without it runs once.
        let command = command.range(of: #"\s+#\s.*$"#, options: .regularExpression).map { String(command[..<$0.lowerBound]) } ?? command
        if let known = printed.withLock({ $0[command] }) { return known }
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = binaries + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let output = try await ChildProcess.run(
            URL(fileURLWithPath: "/bin/sh"), ["-c", command], environment: environment,
            currentDirectory: directory, mergingErrors: true
        ).stdout
        printed.withLock { $0[command] = output }
        return output
    }
}

/// The `$ command` lines of a Markdown document's code blocks, each with the lines after it
/// (up to the next command or the end of the block, blank lines before the next command left
/// out): what the document says it prints. A command continues onto the next line after a
/// trailing backslash.
struct ReadmeExamples {
    struct Example {
        let command: String
        let output: String
        /// The document's lines holding the output (a half-open range).
        let outputLines: Range<Int>
    }

    let lines: [String]
    private(set) var examples: [Example] = []

    init(_ text: String) {
        lines = text.components(separatedBy: "\n")
        var inBlock = false
        var index = 0
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("```") {
                inBlock.toggle()
                index += 1
                continue
            }
            guard inBlock, line.hasPrefix("$ ") else {
                index += 1
                continue
            }
            var command = String(line.dropFirst(2))
            while command.hasSuffix("\\"), index + 1 < lines.count {
                index += 1
                command = String(command.dropLast()) + " " + lines[index].trimmingCharacters(in: .whitespaces)
            }
            let start = index + 1
            var end = start
            while end < lines.count, !lines[end].hasPrefix("$ "), !lines[end].hasPrefix("```") { end += 1 }
            // Blank lines before the next command separate examples; they are not output.
            while end > start, lines[end - 1].isEmpty { end -= 1 }
            let output = lines[start..<end].map { $0 + "\n" }.joined()
            examples.append(Example(command: command, output: output, outputLines: start..<end))
            index = max(end, index + 1)
        }
    }

    /// The document with each example's output replaced, in order, by `outputs`.
    func replacingOutputs(with outputs: [String]) -> String {
        var result: [String] = []
        var next = 0
        for (example, output) in zip(examples, outputs) {
            result += lines[next..<example.outputLines.lowerBound]
            var printed = output.components(separatedBy: "\n")
            if printed.last == "" { printed.removeLast() }
            result += printed
            next = example.outputLines.upperBound
        }
        result += lines[next...]
        return result.joined(separator: "\n")
    }
}
