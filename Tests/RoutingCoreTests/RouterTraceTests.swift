import Foundation
import Testing
@testable import RoutingCore

/// Decision records and router traces are written by hand (a gateway writes one per router
/// call); JSONEncoder is the reference for the bytes, and a trace reads back what was written.
@Suite("Decision records and router traces")
struct RouterTraceTests {
    /// A busy run: hedges, retries after Retry-After, failures, timeouts, breakers, the pool;
    /// its decisions as the router recorded them (with the targets each passed over).
    static func decisions() throws -> (RouterConfig, [DecisionRecord]) {
        let config = threeProviderConfig(
            retry: RetryPolicy(maxAttempts: 3, backoff: .none), breaker: BreakerConfig.standard,
            hedging: HedgingPolicy(delay: .fixed(seconds: 0.2)), fallback: FallbackConfig(targets: ["local-h100"]))
        var harness = try RouterHarness(config: config, seed: 3) { _, _, rng in
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: failure(.overloaded, retryAfter: 0.5)
            case 1: failure(.timeout, latency: 1)
            case 2: failure(.serverError)
            default: ok(latency: Double.random(in: 0.05...0.6, using: &rng))
            }
        }
        for id in 0..<300 { harness.arrive(request(UInt64(id), team: Int32(id % 2)), at: Double(id) * 0.05) }
        harness.run()
        return (config, zip(harness.decisions, harness.passedOver).map { DecisionRecord($0, rejected: $1, config: config) })
    }

    @Test("a record's line is exactly what JSONEncoder writes, names with quotes and control characters included")
    func recordLines() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let (_, records) = try Self.decisions()
        #expect(Set(records.map(\.action)).count >= 5)
        #expect(records.contains { !$0.rejected.isEmpty }, "targets passed over are written too")
        for record in records {
            #expect(record.jsonLine() == String(decoding: try encoder.encode(record), as: UTF8.self))
        }
        for name in ["a\"b", "back\\slash", "tab\tnew\nline", "bell\u{7}\u{1F}", "é/ü 🚀", "\u{8}\u{C}\r"] {
            var odd = threeProviderConfig()
            odd.targets[0].name = name
            odd.routes[0].chain[0].targets[0] = name
            let decision = Decision(
                action: .send, requestID: 1, time: RoutingInstant(nanoseconds: 5), route: 0, target: TargetID(raw: 0), attempt: 1, reasons: [.primary]
            )
            let record = DecisionRecord(decision, rejected: [RejectedAlternative(target: name, reason: .breakerOpen)], config: odd)
            #expect(record.jsonLine() == String(decoding: try encoder.encode(record), as: UTF8.self), "\(name)")
        }
    }

    @Test("a trace reads back the calls and decisions written, and locates what it cannot read")
    func roundTrip() throws {
        let (config, records) = try Self.decisions()
        let calls: [RouterTrace.Call] = [
            .begin(request(7, team: 1, input: 12, maxOutput: 34)),
            .attemptFinished(
                requestID: 7, attempt: 2,
                outcome: AttemptOutcome(
                    outcome: .rateLimited, latencyNanoseconds: 123_456_789, inputTokens: 3,
                    outputTokens: 4, gpuSeconds: 0.125, retryAfterSeconds: 1.5)),
            .attemptFinished(requestID: 7, attempt: 1, outcome: AttemptOutcome(outcome: .success, latencyNanoseconds: 1, gpuSeconds: 1e-7)),
            .resume(requestID: 8),
            .hedgeDue(requestID: 9),
        ]
        let entries = calls.enumerated().map { index, call in
            RouterTrace.Entry(timeNanoseconds: Int64(index) * 1_000, call: call, decision: records[index * 40])
        }
        let header = RouterTrace.Header(seed: 42, configFingerprint: config.fingerprint, unixNanosecondsAtZero: 1_795_737_600_000_000_000)
        let text = ([header.jsonLine()] + entries.map { $0.jsonLine(config: config) }).joined(separator: "\n") + "\n"
        let read = try RouterTrace.read(text, file: "trace.jsonl", config: config)
        #expect(read.header == header)
        #expect(read.entries == entries)

        let unknownRoute = text.replacingOccurrences(of: #""route":"chat","team""#, with: #""route":"caht","team""#)
        #expect(throws: RouterTrace.ReadError.self) { try RouterTrace.read(unknownRoute, file: "trace.jsonl", config: config) }
        do {
            _ = try RouterTrace.read(unknownRoute, file: "trace.jsonl", config: config)
        } catch {
            #expect(error.description.hasPrefix("trace.jsonl:2: ") && error.description.contains("did you mean 'chat'"), "\(error.description)")
        }
        do {
            _ = try RouterTrace.read("{}\n", file: "t", config: config)
        } catch {
            #expect(error.description == "t:1: not a router trace (the first line must be its header)")
        }
    }

    @Test("the config fingerprint: equal configs agree whatever their sets' order; any change shows")
    func fingerprint() {
        let outcomes: [OutcomeClass] = [.overloaded, .serverError, .timeout, .rateLimited, .connectionError]
        var forward = threeProviderConfig(retry: RetryPolicy(retryOn: Set(outcomes)))
        var backward = threeProviderConfig(retry: RetryPolicy(retryOn: Set(outcomes.reversed())))
        #expect(forward.fingerprint == backward.fingerprint && forward.fingerprint.count == 16)
        backward.routes[0].retry.maxAttempts += 1
        #expect(forward.fingerprint != backward.fingerprint)
        forward.targets[0].inputPricePerMillion += 0.01
        #expect(forward.fingerprint != threeProviderConfig(retry: RetryPolicy(retryOn: Set(outcomes))).fingerprint)
    }
}
