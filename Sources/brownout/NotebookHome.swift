import CommandLineSupport
import Foundation

/// Where `brownout export` finds the review notebooks and keeps their Python environment.
struct NotebookHome {
    /// The `notebooks-export` directory: the notebooks, `export.py`, `requirements.txt`, `setup-env`.
    let notebooks: URL
    /// The Python environment they run in.
    let environment: URL

    /// `BROWNOUT_NOTEBOOKS` (a notebooks-export directory), else the installed layout beside
    /// this binary (`BIN/../share/brownout/notebooks-export`), else the checkout this binary
    /// was built in (an ancestor with `notebooks-export/`). A checkout keeps the environment in
    /// its `.venv-notebooks` (`make notebooks-env`); anything else in the data directory.
    static func locate(
        environment variables: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
    ) throws -> NotebookHome {
        func holdsNotebooks(_ url: URL) -> Bool {
            FileManager.default.fileExists(atPath: url.appendingPathComponent("export.py").path)
                && FileManager.default.fileExists(atPath: url.appendingPathComponent("setup-env").path)
        }
        let dataEnvironment = dataDirectory(variables).appendingPathComponent("venv-notebooks")
        var looked: [String] = []
        if let given = variables["BROWNOUT_NOTEBOOKS"], !given.isEmpty {
            let url = URL(fileURLWithPath: given).standardizedFileURL
            guard holdsNotebooks(url) else {
                throw CommandError("BROWNOUT_NOTEBOOKS=\(given): not a notebooks-export directory (it needs export.py and setup-env)")
            }
            return NotebookHome(notebooks: url, environment: dataEnvironment)
        }
        looked.append("BROWNOUT_NOTEBOOKS (unset)")
        let installed = executable.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/brownout/notebooks-export")
            .standardizedFileURL
        if holdsNotebooks(installed) { return NotebookHome(notebooks: installed, environment: dataEnvironment) }
        looked.append(installed.path)
        var url = executable.deletingLastPathComponent()
        while url.path != "/" {
            let candidate = url.appendingPathComponent("notebooks-export")
            if holdsNotebooks(candidate) {
                return NotebookHome(notebooks: candidate, environment: url.appendingPathComponent(".venv-notebooks"))
            }
            url.deleteLastPathComponent()
        }
        looked.append("a brownout checkout above \(executable.deletingLastPathComponent().path)")
        throw CommandError(
            "brownout export needs the review notebooks (notebooks-export/: the notebooks, export.py, requirements.txt, setup-env) and python3 with venv; "
                + "looked in " + looked.joined(separator: ", ")
                + ". Install them with `make install PREFIX=…` from a checkout, or set BROWNOUT_NOTEBOOKS")
    }

    /// `BROWNOUT_DATA_DIR`, else `$XDG_DATA_HOME/brownout`, else `~/.local/share/brownout`.
    static func dataDirectory(_ variables: [String: String]) -> URL {
        if let given = variables["BROWNOUT_DATA_DIR"], !given.isEmpty { return URL(fileURLWithPath: given) }
        if let xdg = variables["XDG_DATA_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("brownout") }
        let home = variables["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/brownout")
    }
}
