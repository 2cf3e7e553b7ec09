import ArgumentParser
import CommandLineSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `brownout twin …` runs `brownout-twin …`, the executable beside this one (as git runs
/// `git-NAME`): the live twin links the HTTP server stack, which the simulator's commands do not
/// need, so `brownout` builds without it. Every argument is passed on unchanged.
struct TwinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twin",
        abstract: "Run the spec live (mock providers, the real gateway, a load generator, in scaled time) and compare it with the simulator.",
        discussion:
            "Runs brownout-twin, installed beside brownout (swift build -c release --product brownout-twin); brownout twin help compare shows its options, brownout twin help upstreams the server of the spec's upstreams it starts."
    )

    @Argument(parsing: .captureForPassthrough, help: "The twin's arguments (brownout twin --help).")
    var arguments: [String] = []

    func run() throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let twin = directory.appendingPathComponent("brownout-twin").path
        guard FileManager.default.isExecutableFile(atPath: twin) else {
            throw CommandError(
                "brownout twin runs \(twin), which is not there: build it with swift build -c release --product brownout-twin (make test builds it)")
        }
        let argv = ([twin] + arguments).map { strdup($0) } + [nil]
        execv(twin, argv)
        throw CommandError("could not run \(twin): \(String(cString: strerror(errno)))")
    }
}
