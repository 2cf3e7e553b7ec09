import ChildProcesses
import Foundation
import ProcessTestSupport

/// Runs one of the package's built executables (debug: beside the test bundle, or one named by
/// its URL), as a user would, and captures its output.
struct CommandRunner {
    static func run(_ executable: String, _ arguments: [String]) async throws -> ChildOutput {
        try await run(BuiltProducts.beside.appendingPathComponent(executable), arguments)
    }

    static func run(_ executable: URL, _ arguments: [String]) async throws -> ChildOutput {
        try await ChildProcess.run(executable, arguments)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
