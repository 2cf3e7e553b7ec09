import ArgumentParser
import CommandLineSupport
import Foundation

/// `brownout export`: the planning-review notebook of an output directory, executed, as a
/// notebook and a self-contained HTML page beside the CSVs.
///
/// The notebooks, their Python helper and their pinned requirements are found (``NotebookHome``)
/// in `BROWNOUT_NOTEBOOKS`, else installed beside this binary (`../share/brownout/notebooks-export`,
/// what `make install` writes), else in the checkout it was built in. They run in a Python
/// environment that `notebooks-export/setup-env` makes on first use: the checkout's
/// `.venv-notebooks` (what `make notebooks-env` makes), or for an installed brownout one in its
/// data directory (`BROWNOUT_DATA_DIR`, else `$XDG_DATA_HOME/brownout`, else
/// `~/.local/share/brownout`).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Execute the review notebook for an output directory and write review.ipynb and review.html beside its CSVs.",
        discussion: """
            The review (run, variant comparison, sweep, sizing or incident) follows from what DIR holds. The notebooks are found in $BROWNOUT_NOTEBOOKS, \
            else in ../share/brownout/notebooks-export beside this binary (make install), else in the checkout it was built in; their Python \
            environment is made on first use: the checkout's .venv-notebooks, or $BROWNOUT_DATA_DIR (default ~/.local/share/brownout)/venv-notebooks.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case ipynb, html
    }

    @Argument(help: "An output directory of brownout run, sweep, size-fallback or incident.")
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
        let home = try NotebookHome.locate()
        let notebooks = home.notebooks
        let python = home.environment.appendingPathComponent("bin/python")
        // Makes the environment on first use (and after the requirements change); at once otherwise.
        let setUp = try Self.launch(
            "/bin/sh", [notebooks.appendingPathComponent("setup-env").path, home.environment.path], outputToStandardError: true)
        guard setUp == 0 else {
            throw CommandError(
                "the notebook environment could not be set up in \(home.environment.path) (above); it needs python3 with venv and PyPI")
        }
        var arguments = [notebooks.appendingPathComponent("export.py").path, directory]
        if let format { arguments += ["--format", format.rawValue] }
        if let out { arguments += ["--out", out] }
        let status = try Self.launch(python.path, arguments, outputToStandardError: false)
        if status != 0 { throw ExitCode(status) }
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
