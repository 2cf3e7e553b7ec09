import ArgumentParser
import Foundation

/// `--jobs`, shared by every command that runs replications.
public struct JobsOption: ParsableArguments {
    @Option(help: "Threads running replications in parallel (1 to 256, default: the number of cores); outputs are the same whatever it is.")
    public var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    public init() {}

    public func validate() throws {
        guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 256, got \(jobs)") }
    }
}
