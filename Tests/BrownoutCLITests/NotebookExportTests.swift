import ChildProcesses
import Foundation
import ProcessTestSupport
import Testing

/// `brownout export` executes the review notebooks (notebooks-export/) on outputs made here:
/// a run, a run with variants, a sweep and a sizing of the small CLI spec, and a run in which
/// a second team bypasses the gateway.
@Suite("brownout export: review notebooks, end to end", .serialized, .timeLimit(.minutes(10)))
struct NotebookExportTests {
    /// The figures each review draws, in order.
    static let figures = ["run": 5, "bypass": 6, "variants": 2, "sweep": 1, "sizing": 1]

    /// The release binaries when make test gives them: the small runs below are quicker there.
    static func brownout(_ arguments: [String]) async throws -> ChildOutput {
        try await CommandRunner.run(BuiltProducts.preferRelease.appendingPathComponent("brownout"), arguments)
    }

    /// Output directories of every kind, made once for the suite (by the first test to ask).
    static let outputs = Task<[String: URL], any Error> {
        let directory = try CommandRunner.temporaryDirectory()
        let spec = directory.appendingPathComponent("spec.yaml")
        try RunCommandTests.spec.write(to: spec, atomically: true, encoding: .utf8)
        let withVariants = directory.appendingPathComponent("variants.yaml")
        try (RunCommandTests.spec + "\nvariants:\n  bigger: {providers.alpha.concurrency: 20}\n  no-retries: {routes.chat.retry.max_attempts: 1}\n")
            .write(to: withVariants, atomically: true, encoding: .utf8)
        let sizingSpec = directory.appendingPathComponent("sizing.yaml")
        try SizeFallbackCommandTests.downSpec.write(to: sizingSpec, atomically: true, encoding: .utf8)
        let out = { (name: String) in directory.appendingPathComponent(name) }
        let commands: [[String]] = [
            ["run", spec.path, "--out", out("run").path],
            [
                "run", spec.path, "--set", "routes.direct={chain: [alpha], mode: bypass}", "--set",
                "teams.direct-app={route: direct, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: 500, output_tokens: 100}",
                "--out", out("bypass").path,
            ],
            ["run", withVariants.path, "--out", out("variants").path],
            [
                "sweep", spec.path, "--vary", "providers.alpha.concurrency=3,5,8", "--vary", "routes.chat.retry.max_attempts=2,3", "--out",
                out("sweep").path,
            ],
            ["size-fallback", sizingSpec.path, "--pool", "gpu", "--slo", "app.availability>=0.9", "--max", "8", "--out", out("sizing").path],
        ]
        for command in commands {
            let result = try await brownout(command)
            guard result.status == 0 else { throw CommandFailure(command: command, stderr: result.stderr) }
        }
        return ["run": out("run"), "bypass": out("bypass"), "variants": out("variants"), "sweep": out("sweep"), "sizing": out("sizing")]
    }

    struct CommandFailure: Error { let command: [String]; let stderr: String }

    @Test(
        "each review executes without a cell error, draws every figure, and writes a self-contained page",
        arguments: ["run", "bypass", "variants", "sweep", "sizing"])
    func review(kind: String) async throws {
        let directory = try #require(try await Self.outputs.value[kind])
        let result = try await Self.brownout(["export", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        let kindName = kind == "bypass" ? "run" : kind
        #expect(result.stdout.hasPrefix("Wrote the \(kindName) review: \(directory.path)/review.ipynb, \(directory.path)/review.html"))
        // The executed notebook: no error output, and one PNG per expected figure.
        let notebook = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("review.ipynb"))) as? [String: Any]
        let cells = try #require(notebook?["cells"] as? [[String: Any]])
        let outputs = cells.flatMap { ($0["outputs"] as? [[String: Any]]) ?? [] }
        #expect(!outputs.contains { $0["output_type"] as? String == "error" })
        let images = outputs.filter { (($0["data"] as? [String: Any])?["image/png"]) != nil }
        #expect(images.count == Self.figures[kind])
        // The page embeds its images (it opens from a file, without a server) and shows no code.
        let html = try String(contentsOf: directory.appendingPathComponent("review.html"), encoding: .utf8)
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == Self.figures[kind])
        #expect(!html.contains("Traceback"))
        #expect(!html.contains("review.availability_over_time"), "code cells are hidden in the page")
    }

    /// The run review's bypass section: a bypassing team is named with the provider it calls and
    /// its availability while that provider was degraded, next to the team behind the gateway; a
    /// run without one says so and draws nothing.
    @Test("the run review shows a bypassing team's exposure next to the others', and says when no team bypasses")
    func bypassSection() async throws {
        for (kind, expected) in [
            ("bypass", "**direct-app** bypasses the gateway: every request goes straight to **alpha**"), ("run", "No team bypasses the gateway"),
        ] {
            let directory = try #require(try await Self.outputs.value[kind])
            let result = try await Self.brownout(["export", directory.path, "--format", "ipynb"])
            #expect(result.status == 0, "\(result.stderr)")
            let text = try String(contentsOf: directory.appendingPathComponent("review.ipynb"), encoding: .utf8)
            #expect(text.contains(expected), "\(kind)")
            if kind == "bypass" {
                #expect(text.contains("While alpha was degraded"), "the squeeze degrades alpha in this run")
                #expect(text.contains("behind the gateway, in the same stretches: app "))
            }
        }
    }

    @Test("--format and --out write just that file")
    func oneFormat() async throws {
        let directory = try #require(try await Self.outputs.value["sizing"])
        let target = try CommandRunner.temporaryDirectory().appendingPathComponent("sizing-review.html")
        let result = try await Self.brownout(["export", directory.path, "--format", "html", "--out", target.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: target.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path) == ["sizing-review.html"])
    }

    @Test("a failing cell is named with its Python error, exits 1 and writes nothing")
    func failingCell() async throws {
        let source = try #require(try await Self.outputs.value["run"])
        let broken = try CommandRunner.temporaryDirectory().appendingPathComponent("broken")
        try FileManager.default.copyItem(at: source, to: broken)
        for name in ["review.ipynb", "review.html"] { try? FileManager.default.removeItem(at: broken.appendingPathComponent(name)) }
        // A per_team.csv from some other tool, without the SLO columns the review reads.
        try "variant,team,tier\r\nbaseline,app,0\r\n".write(to: broken.appendingPathComponent("per_team.csv"), atomically: true, encoding: .utf8)
        let result = try await Self.brownout(["export", broken.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("run-review.ipynb failed on \(broken.path) in this cell:"), "\(result.stderr)")
        // The Python error, plainly (no terminal colour codes), on the last line.
        let last = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.range(of: #"^[A-Za-z]+Error: \S"#, options: .regularExpression) != nil, "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}["))
        #expect(!result.stderr.contains("WARNING"), "the kernel runs on IPC sockets and says nothing")
        let left = try FileManager.default.contentsOfDirectory(atPath: broken.path)
        #expect(!left.contains { $0.hasPrefix("review.") || $0.hasPrefix(".export-") })
    }

    /// The checkout the tests run in.
    static let checkout = BuiltProducts.checkout

    /// `brownout` copied where `make install PREFIX=…` puts it, with the notebooks beside it
    /// or not; its data directory's environment is the checkout's (made by `make notebooks-env`,
    /// which `make test` runs), so the test needs no PyPI.
    static func installed(withNotebooks: Bool) throws -> (brownout: URL, environment: [String: String]) {
        let prefix = try CommandRunner.temporaryDirectory()
        let bin = prefix.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: BuiltProducts.preferRelease.appendingPathComponent("brownout"), to: bin.appendingPathComponent("brownout"))
        if withNotebooks {
            let share = prefix.appendingPathComponent("share/brownout")
            try FileManager.default.createDirectory(at: share, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: checkout.appendingPathComponent("notebooks-export"), to: share.appendingPathComponent("notebooks-export"))
        }
        let data = prefix.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: data.appendingPathComponent("venv-notebooks"), withDestinationURL: checkout.appendingPathComponent(".venv-notebooks"))
        var environment = ProcessInfo.processInfo.environment
        environment["BROWNOUT_NOTEBOOKS"] = nil
        environment["BROWNOUT_DATA_DIR"] = data.path
        return (bin.appendingPathComponent("brownout"), environment)
    }

    @Test("an installed brownout finds the notebooks beside it and keeps their environment in its data directory")
    func installedBinary() async throws {
        let directory = try #require(try await Self.outputs.value["run"])
        let (brownout, environment) = try Self.installed(withNotebooks: true)
        let target = try CommandRunner.temporaryDirectory().appendingPathComponent("run-review.html")
        let result = try await ChildProcess.run(
            brownout, ["export", directory.path, "--format", "html", "--out", target.path], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: target.path))
    }

    @Test("without the notebooks anywhere, export says what it needs and where it looked, and writes nothing")
    func installedWithoutNotebooks() async throws {
        let directory = try #require(try await Self.outputs.value["run"])
        let (brownout, environment) = try Self.installed(withNotebooks: false)
        let target = try CommandRunner.temporaryDirectory().appendingPathComponent("run-review.html")
        let result = try await ChildProcess.run(
            brownout, ["export", directory.path, "--format", "html", "--out", target.path], environment: environment)
        #expect(result.status == 1)
        let bin = brownout.deletingLastPathComponent()
        #expect(
            result.stderr.contains(
                "brownout export needs the review notebooks (notebooks-export/: the notebooks, export.py, requirements.txt, setup-env) and python3 with venv"
            ))
        #expect(
            result.stderr.contains(
                "looked in BROWNOUT_NOTEBOOKS (unset), \(bin.deletingLastPathComponent().path)/share/brownout/notebooks-export, a brownout checkout above \(bin.path)"
            ))
        #expect(!FileManager.default.fileExists(atPath: target.path))
        var wrong = environment
        wrong["BROWNOUT_NOTEBOOKS"] = directory.path
        let misdirected = try await ChildProcess.run(brownout, ["export", directory.path], environment: wrong)
        #expect(misdirected.status == 1 && misdirected.stderr.contains("BROWNOUT_NOTEBOOKS=\(directory.path): not a notebooks-export directory"))
    }

    @Test("a directory without outputs, or none at all, gets one clear line")
    func notAnOutputDirectory() async throws {
        let empty = try CommandRunner.temporaryDirectory()
        let result = try await Self.brownout(["export", empty.path])
        #expect(result.status == 1)
        #expect(result.stderr == "Error: \(empty.path): no Brownout outputs here (summary.csv, compare.csv, sweep.csv, sizing.csv or timeline.csv)\n")
        let missing = try await Self.brownout(["export", empty.appendingPathComponent("nope").path])
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error: \(empty.appendingPathComponent("nope").path): no such directory\n")
    }
}
