import ChildProcesses
import Foundation
import ProcessTestSupport
import Testing

extension LiveTwinRuns {
    /// `brownout fit --timeline` against ground truth we control: a twin run of a spec whose
    /// provider is squeezed from 100 s to 200 s (half its attempts 529, a fifth 500). The fit must
    /// find that stretch and that mix in the gateway's trace, and the spec it writes must
    /// reproduce what the gateway recorded. Both providers take 64 at once and the twin runs at
    /// 10×: with 16 at 20×, a CI machine slowed by the other tests stretched the requests in flight
    /// (first tokens of 3 s) until an upstream refused some, real stretches of 529s the fit rightly
    /// found, but not the scripted one.
    @Suite("brownout fit --timeline, on a recorded twin run", .serialized, .timeLimit(.minutes(10)))
    struct FitTimelineTests {
        static let binaries = BuiltProducts.preferRelease

        static let spec = """
            name: fit-small
            run: {duration_s: 300, warmup_s: 0, replications: 3, seed: 5, bucket_s: 60}
            providers:
              alpha: {concurrency: 64, queue: 16, ttft_s: {lognormal: {median: 0.5, p99: 2}}, output_tokens_per_s: {constant: 100},
                      input_usd_per_mtok: 3, output_usd_per_mtok: 15,
                      states: {squeeze: {errors: {overloaded_529: 0.5, server_error_5xx: 0.2}, retry_after_s: 1}}}
              beta: {concurrency: 64, ttft_s: {lognormal: {median: 0.3, p99: 1}}, output_tokens_per_s: {constant: 200}, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
            routes:
              chat: {chain: [[alpha], [beta]], retry: {max_attempts: 2, backoff: {kind: full_jitter, base_s: 0.2, cap_s: 1}}}
            gateway:
              breaker: {consecutive_failures: 20, failure_rate: 0.9, window_s: 10, minimum_requests: 50, open_s: 5}
            teams:
              app: {route: chat, arrivals: {poisson: {rate_per_s: 4}}, input_tokens: {constant: 200}, output_tokens: {constant: 40}, stream_share: 0.5}
              ops: {route: chat, arrivals: {poisson: {rate_per_s: 2}}, input_tokens: {constant: 100}, output_tokens: {constant: 20}}
            degradation:
              - name: squeeze
                script: [{provider: alpha, from: 100, to: 200, state: squeeze}]
            """

        static func rows(_ url: URL) throws -> [[String]] {
            try String(contentsOf: url, encoding: .utf8).split(separator: "\r\n").map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
        }

        /// The first match of `pattern`'s capture groups in `text`, as numbers.
        static func numbers(_ pattern: String, in text: String) throws -> [Double] {
            let expression = try NSRegularExpression(pattern: pattern)
            guard let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return [] }
            return (1..<match.numberOfRanges).compactMap { Range(match.range(at: $0), in: text).flatMap { Double(text[$0]) } }
        }

        @Test(
            "the squeeze is found where it was scripted, with its mix, and the fitted spec reproduces each team's availability, degraded share and spend"
        )
        func groundTruth() async throws {
            let directory = try CommandRunner.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let specURL = directory.appendingPathComponent("spec.yaml")
            try Self.spec.write(to: specURL, atomically: true, encoding: .utf8)
            let brownout = Self.binaries.appendingPathComponent("brownout")
            let twinOut = directory.appendingPathComponent("twin")
            let twin = try await CommandRunner.run(brownout, ["twin", specURL.path, "--scale", "10", "--replications", "2", "--out", twinOut.path])
            try #require(twin.status == 0, "\(twin.stderr)")
            let trace = twinOut.appendingPathComponent("gateway-trace").path, gatewaySpec = twinOut.appendingPathComponent("gateway.yaml").path

            let fitted = directory.appendingPathComponent("fitted/incident.yaml")
            let fit = try await CommandRunner.run(
                brownout,
                ["fit", trace, "--timeline", "--spec", gatewaySpec, "--bin-s", "10", "--from", "0", "--to", "300", "--out", fitted.path])
            try #require(fit.status == 0, "\(fit.stderr)")
            let text = try String(contentsOf: fitted, encoding: .utf8)
            // One stretch, alpha's, within a bin (10 s) of the script's 100–200 s; beta never left its state.
            let script = text.split(separator: "\n").filter { $0.contains("{provider:") }
            try #require(script.count == 1, "one stretch fitted:\n\(text)")
            let stretch = try Self.numbers(#"provider: "alpha", from: ([0-9.]+), to: ([0-9.]+)"#, in: String(script[0]))
            try #require(stretch.count == 2, "\(script[0])")
            #expect(abs(stretch[0] - 100) <= 10 && abs(stretch[1] - 200) <= 10, "the squeeze, 100–200 s, fitted as \(stretch[0])–\(stretch[1]) s")
            // Its mix within four standard errors of the scripted one (n: the attempts in the state;
            // two checks at 4σ: a chance failure about once in 8,000 runs).
            let mix = try Self.numbers(
                #"observed_1: \{errors: \{overloaded_529: ([0-9.e-]+), server_error_5xx: ([0-9.e-]+)\}.*# ([0-9]+) attempts"#, in: text)
            try #require(mix.count == 3, "the state's mix:\n\(text)")
            for (fitted, truth) in [(mix[0], 0.5), (mix[1], 0.2)] {
                let error = 4 * (truth * (1 - truth) / mix[2]).squareRoot()
                #expect(abs(fitted - truth) <= error, "fitted \(fitted), scripted \(truth), four standard errors \(error)")
            }

            // The fitted spec run, against what the gateway recorded over the same window. (Not
            // latency: at 10× the twin's real-time transport, a couple of milliseconds an answer, is
            // some 20 ms of model time, which the fit folds into the providers' first tokens and
            // rates: the reproduced median runs a few per cent slow.)
            let simulated = directory.appendingPathComponent("sim")
            let run = try await CommandRunner.run(brownout, ["run", fitted.path, "--replications", "20", "--out", simulated.path])
            try #require(run.status == 0, "\(run.stderr)")
            let recorded = directory.appendingPathComponent("incident")
            let incident = try await CommandRunner.run(
                brownout, ["incident", trace, "--spec", gatewaySpec, "--from", "0", "--to", "300", "--out", recorded.path])
            try #require(incident.status == 0, "\(incident.stderr)")
            let summary = try Self.rows(simulated.appendingPathComponent("summary.csv"))
            let observed = try Self.rows(recorded.appendingPathComponent("summary.csv"))
            for team in ["app", "ops"] {
                let requests = try #require(observed.first { $0[1] == team && $0[2] == "requests" }.flatMap { Double($0[3]) })
                for metric in ["requests", "availability", "degraded_share", "cost_total_usd"] {
                    let row = try #require(summary.first { $0[1] == team && $0[2] == metric })
                    let mean = try #require(Double(row[3])), low = try #require(Double(row[4])), high = try #require(Double(row[5]))
                    let value = try #require(observed.first { $0[1] == team && $0[2] == metric }.flatMap { Double($0[3]) })
                    // The 99.9% prediction interval of one run from the 20 replications' interval of
                    // the mean: s = half-width / t(0.975, 19) · √20; mean ± t(0.9995, 19) · s · √(1 + 1/20).
                    // Eight checks at 99.9% each: the test as a whole fails by chance under 1% of
                    // the time. A run's failures are a small count (about 5 of 1,160), whose upper
                    // tail a normal interval understates: availability also gets four Poisson
                    // standard deviations of its failures and one request.
                    let spread = (high - low) / 2 / 2.093 * 20.0.squareRoot()
                    var half = max(3.883 * spread * (1 + 1 / 20.0).squareRoot(), 1e-9)
                    if metric == "availability" {
                        let failures = (1 - mean) * requests
                        half = max(half, (4 * (failures + 1).squareRoot() + 1) / requests)
                    }
                    #expect(abs(value - mean) <= half, "\(team) \(metric): recorded \(value), simulated \(mean) ± \(half)")
                }
            }
        }

        @Test("bad input: --timeline with no spec given nor kept beside the trace, a bad bin, a window without --timeline")
        func badInput() async throws {
            let brownout = Self.binaries.appendingPathComponent("brownout")
            let directory = try CommandRunner.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            try Data("{}\n".utf8).write(to: directory.appendingPathComponent("trace.jsonl"))
            for (arguments, message) in [
                (
                    ["fit", directory.path, "--timeline", "--out", "x.yaml"],
                    "spec.yaml: not there (a gateway's --record keeps the spec it ran beside its trace): give --spec"
                ),
                (["fit", "somewhere", "--timeline", "--spec", "s.yaml", "--bin-s", "0", "--out", "x.yaml"], "--bin-s must be between 1 and 86400"),
                (["fit", "somewhere", "--from", "10", "--out", "x.yaml"], "--from and --to window a --timeline fit"),
            ] {
                let result = try await CommandRunner.run(brownout, arguments)
                #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
            }
        }
    }
}
