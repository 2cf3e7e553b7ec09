import ArgumentParser
import CommandLineSupport
import Foundation

/// `brownout export`: the planning-review notebook of an output directory, executed, as a
/// notebook and a self-contained HTML page beside the CSVs.
///
/// The notebooks and their Python helper live in `notebooks-export/` of the checkout this
/// binary was built in; they run in the Python environment `make notebooks-env` makes there
/// (made on first use).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Execute the review notebook for an output directory and write review.ipynb and review.html beside its CSVs.",
        discussion: "The review (run, variant comparison, sweep or sizing) follows from what DIR holds. The Python environment is made with `make notebooks-env` on first use."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case ipynb, html
    }

    @Argument(help: "An output directory of brownout run, sweep or size-fallback.")
    var directory: String

    @Option(help: "Write only this format (ipynb or html); default: both.")
    var format: Format?

    @Option(help: "Write to this file instead of DIR/review.<format> (needs one format).")
    var out: String?

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandError("\(directory): no such directory")
        }
        guard let checkout = Self.checkout() else {
            throw CommandError("notebooks-export/ not found beside this binary; set BROWNOUT_NOTEBOOKS to the checkout's notebooks-export directory")
        }
        let notebooks = checkout.appendingPathComponent("notebooks-export")
        let python = checkout.appendingPathComponent(".venv-notebooks/bin/python")
        if !FileManager.default.fileExists(atPath: checkout.appendingPathComponent(".venv-notebooks/.installed").path) {
            FileHandle.standardError.write(Data("Setting up the notebook environment (first use): make notebooks-env\n".utf8))
            let status = try Self.launch("/usr/bin/env", ["make", "--no-print-directory", "-C", checkout.path, "notebooks-env"], outputToStandardError: true)
            guard status == 0 else {
                throw CommandError("the notebook environment could not be set up (make notebooks-env, above); it needs python3 with venv and PyPI")
            }
        }
        var arguments = [notebooks.appendingPathComponent("export.py").path, directory]
        if let format { arguments += ["--format", format.rawValue] }
        if let out { arguments += ["--out", out] }
        let status = try Self.launch(python.path, arguments, outputToStandardError: false)
        if status != 0 { throw ExitCode(status) }
    }

    /// The checkout holding notebooks-export/: BROWNOUT_NOTEBOOKS's parent, or the nearest
    /// ancestor of this executable that has it.
    static func checkout() -> URL? {
        if let given = ProcessInfo.processInfo.environment["BROWNOUT_NOTEBOOKS"] {
            return URL(fileURLWithPath: given).deletingLastPathComponent()
        }
        var url = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("notebooks-export/export.py").path) { return url }
        }
        return nil
    }

    static func launch(_ executable: String, _ arguments: [String], outputToStandardError: Bool) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if outputToStandardError { process.standardOutput = FileHandle.standardError }
        do {
            try process.run()
        } catch {
            throw CommandError("could not start \(executable): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
