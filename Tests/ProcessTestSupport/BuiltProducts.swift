import Foundation

/// Where the package's built executables are, for the tests that run them as a user would.
public enum BuiltProducts {
    /// The products built with the tests (debug): the test bundle sits beside them.
    public static let beside: URL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

    /// The release products when `make test` names them (`BROWNOUT_RELEASE_BIN`: the
    /// scenarios, the gateway and the twin run at their real speed there), else `beside`.
    public static let preferRelease: URL = {
        if let release = ProcessInfo.processInfo.environment["BROWNOUT_RELEASE_BIN"] { return URL(fileURLWithPath: release) }
        return beside
    }()
}
