import ArgumentParser
import Foundation
import RoutingCore

/// Micro-benchmark of RoutingCore's common path: a healthy three-provider chain with the
/// default policies (weighted random, full-jitter retries, Finagle retry budget, breakers).
struct RoutingCoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routing-core",
        abstract: "Time RoutingCore's common path (healthy three-target chain) and print one JSON object."
    )

    @Option(help: "Requests to route; each makes two decisions (send, complete).")
    var requests: Int = 2_000_000

    func validate() throws {
        guard (1...1_000_000_000).contains(requests) else {
            throw ValidationError("--requests must be between 1 and 1000000000, got \(requests)")
        }
    }

    func run() throws {
        let start = ContinuousClock.now
        let (checksum, successfulUSD) = try RoutingCoreWorkload.route(requests: requests)
        let elapsed = start.duration(to: .now)
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let decisions = 2 * requests
        print(
            """
            {"requests": \(requests), "decisions": \(decisions), "wall_seconds": \(String(format: "%.4f", wall)), \
            "decisions_per_second": \(String(format: "%.0f", Double(decisions) / wall)), "checksum": \(checksum), \
            "successful_usd": \(String(format: "%.4f", successfulUSD))}
            """
        )
    }
}

/// RoutingCore's common path: a healthy three-provider chain with the default policies; per
/// request one `begin` (send) and one `attemptFinished` (complete), the clock 1 ms further.
enum RoutingCoreWorkload {
    static func route(requests: Int) throws -> (checksum: Int64, successfulUSD: Double) {
        let config = RouterConfig(
            targets: [
                TargetConfig(name: "anthropic", inputPricePerMillion: 3, outputPricePerMillion: 15),
                TargetConfig(name: "openai", inputPricePerMillion: 2.5, outputPricePerMillion: 10),
                TargetConfig(name: "google", inputPricePerMillion: 1.25, outputPricePerMillion: 10),
            ],
            routes: [RouteConfig(name: "chat", chain: [TierConfig(targets: ["anthropic", "openai", "google"])])],
            teams: [TeamConfig(name: "search")]
        )
        let clock = ManualClock()
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SplitMix64(seed: 7))
        let outcome = AttemptOutcome(outcome: .success, latencyNanoseconds: 800_000_000, inputTokens: 1_000, outputTokens: 400)
        var checksum: Int64 = 0
        let chat = try router.route(named: "chat"), search = try router.team(named: "search")
        for id in 0..<requests {
            clock.now = RoutingInstant(nanoseconds: Int64(id) * 1_000_000)
            var (state, decision) = router.begin(RoutingRequest(id: UInt64(id), route: chat, team: search, inputTokens: 1_000, maxOutputTokens: 500))
            checksum &+= Int64(decision.target?.index ?? -1)
            let done = router.attemptFinished(&state, attempt: decision.attempt, outcome)
            checksum &+= Int64(done.attempt)
        }
        return (checksum, router.ledger.spend(of: search).successfulUSD)
    }
}
