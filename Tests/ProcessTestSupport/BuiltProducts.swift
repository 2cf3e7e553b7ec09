import Foundation

/// Where the package's checkout and built executables are, for the tests that run them as a
/// user would.
public enum BuiltProducts {
    /// The checkout the tests were built from.
    public static let checkout: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The products built with the tests (debug): the test bundle sits beside them.
    public static let beside: URL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()

    /// The release products: `BROWNOUT_RELEASE_BIN` when `make test` names them, else the
    /// checkout's `.build/release` (for what must be measured in release, as allocations).
    public static let release: URL = {
        if let release = ProcessInfo.processInfo.environment["BROWNOUT_RELEASE_BIN"] { return URL(fileURLWithPath: release) }
        return checkout.appendingPathComponent(".build/release")
    }()

    /// The release products when `make test` names them (`BROWNOUT_RELEASE_BIN`: the
    /// scenarios, the gateway and the twin run at their real speed there), else `beside`.
    public static let preferRelease: URL = {
        if ProcessInfo.processInfo.environment["BROWNOUT_RELEASE_BIN"] != nil { return release }
        return beside
    }()
}
