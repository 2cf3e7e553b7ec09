import ArgumentParser
import CommandLineSupport
import Experiments

/// `brownout merge`: join sweep shards into the output of the unsharded sweep.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the shard directories of a sweep into one, byte-identical to the unsharded run."
    )

    @Argument(help: "The shards' output directories.")
    var shards: [String]

    @Option(help: "Output directory.")
    var out: String

    func run() throws {
        do {
            let points = try Sweep.merge(shards, into: out)
            print("Merged \(shards.count) shard(s), \(points) points; wrote sweep.csv and sweep.json to \(out)/")
        } catch {
            throw CommandError(error.description)
        }
    }
}
