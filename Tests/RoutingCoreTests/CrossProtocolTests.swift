import Testing

@testable import RoutingCore

/// `routes.NAME.cross_protocol: false`: a request goes only to targets that speak its client's
/// API (`RoutingRequest.apiProtocol` against `TargetConfig.apiProtocol`); others are passed
/// over as `other_protocol`. The default (true) routes as if APIs did not exist.
@Suite("Router: cross_protocol")
struct CrossProtocolTests {
    /// anthropic speaks Anthropic's API, openai and google OpenAI's.
    static func config(crossProtocol: Bool) -> RouterConfig {
        var config = threeProviderConfig(retry: RetryPolicy(maxAttempts: 3, backoff: .none, target: .next))
        config.targets[0].apiProtocol = .anthropic
        config.routes[0].crossProtocol = crossProtocol
        return config
    }

    static func router(_ config: RouterConfig) throws -> Router {
        let clock = ManualClock()
        var router = try Router(
            config: config, clock: clock, wallClock: OffsetWallClock(clock: clock, unixNanosecondsAtZero: 0), generator: SplitMix64(seed: 1))
        router.recordsRejectedAlternatives = true
        return router
    }

    static func request(_ id: UInt64, _ api: APIProtocol) -> RoutingRequest {
        RoutingRequest(id: id, route: RouteID(raw: 0), team: TeamID(raw: 0), inputTokens: 100, maxOutputTokens: 10, apiProtocol: api)
    }

    /// The target a decision sends to, by name.
    static func target(_ decision: Decision) -> String? {
        decision.target.map { threeProviderConfig().targets[$0.index].name }
    }

    @Test("false: an OpenAI client never reaches the Anthropic target, an Anthropic client never leaves it (its retries too); true: both go anywhere")
    func onlyTheClientsAPI() throws {
        // One tier of three, weighted at random: over 60 requests of each API every allowed target comes up.
        var strict = try Self.router(Self.config(crossProtocol: false))
        var open = try Self.router(Self.config(crossProtocol: true))
        var strictTargets: [APIProtocol: Set<String>] = [:]
        var openTargets: [APIProtocol: Set<String>] = [:]
        for id in 0..<120 {
            let api: APIProtocol = id % 2 == 0 ? .openai : .anthropic
            var (state, first) = strict.begin(Self.request(UInt64(id), api))
            strictTargets[api, default: []].insert(Self.target(first) ?? "none")
            if api == .openai {
                #expect(strict.rejectedAlternatives.allSatisfy { $0.target != "anthropic" || $0.reason == .otherProtocol })
            } else {
                // It fails: the retry goes back to the one target of its API, or nowhere.
                let retry = strict.attemptFinished(&state, attempt: first.attempt, AttemptOutcome(outcome: .overloaded, latencyNanoseconds: 1_000))
                strictTargets[api, default: []].insert(Self.target(retry) ?? "none")
                #expect(strict.rejectedAlternatives.allSatisfy { $0.reason == .otherProtocol }, "\(strict.rejectedAlternatives)")
            }
            let (_, openFirst) = open.begin(Self.request(UInt64(1_000 + id), api))
            openTargets[api, default: []].insert(Self.target(openFirst) ?? "none")
        }
        #expect(strictTargets[.openai] == ["openai", "google"])
        #expect(strictTargets[.anthropic] == ["anthropic"])
        #expect(openTargets[.openai] == ["anthropic", "openai", "google"] && openTargets[.anthropic] == ["anthropic", "openai", "google"])
    }

    @Test("a trace records a Messages client's API and reads it back; an OpenAI client's line is as before")
    func traced() throws {
        let config = Self.config(crossProtocol: false)
        var router = try Self.router(config)
        for api in APIProtocol.allCases {
            let (_, decision) = router.begin(Self.request(api == .openai ? 9 : 10, api))
            let entry = RouterTrace.Entry(
                timeNanoseconds: 5, call: .begin(Self.request(api == .openai ? 9 : 10, api)), decision: router.record(decision))
            let line = entry.jsonLine(config: config)
            #expect(line.contains(#""api":"anthropic""#) == (api == .anthropic), "\(line)")
            let header = RouterTrace.Header(seed: 1, configFingerprint: config.fingerprint, unixNanosecondsAtZero: 0)
            let read = try RouterTrace.read(header.jsonLine() + "\n" + line + "\n", file: "t", config: config)
            #expect(read.entries == [entry])
        }
    }
}
