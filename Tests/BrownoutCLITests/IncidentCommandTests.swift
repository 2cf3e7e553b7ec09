import ChildProcesses
import Foundation
import ProcessTestSupport
import Testing

extension LiveTwinRuns {
    /// `brownout incident` on what a live gateway recorded: the twin's run is ground truth we
    /// control (its load generator counted every request, the gateway its spend and attempts), so
    /// the incident's tables must say what they said.
    @Suite("brownout incident, on a recorded twin run", .serialized, .timeLimit(.minutes(10)))
    struct IncidentCommandTests {
        static let binaries = BuiltProducts.preferRelease

        /// A squeeze of alpha (half its attempts 529, 40–80 s) with beta behind it; no SDK
        /// retries, so a client's request is one gateway request.
        static let spec = """
            name: incident-small
            run: {duration_s: 120, warmup_s: 10, replications: 3, seed: 5}
            providers:
              alpha: {concurrency: 8, queue: 4, ttft_s: {lognormal: {median: 0.5, p99: 2}}, output_tokens_per_s: {constant: 100},
                      input_usd_per_mtok: 3, output_usd_per_mtok: 15, states: {squeeze: {errors: {overloaded_529: 0.5, server_error_5xx: 0.2}, retry_after_s: 1}}}
              beta: {concurrency: 8, ttft_s: {lognormal: {median: 0.3, p99: 1}}, output_tokens_per_s: {constant: 200}, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
            routes:
              chat: {chain: [[alpha], [beta]], retry: {max_attempts: 2, backoff: {kind: full_jitter, base_s: 0.2, cap_s: 1}}}
            gateway:
              breaker: {consecutive_failures: 5, open_s: 5}
            teams:
              app: {route: chat, arrivals: {poisson: {rate_per_s: 3}}, input_tokens: {constant: 200}, output_tokens: {constant: 40}, stream_share: 0.5}
              ops: {route: chat, arrivals: {poisson: {rate_per_s: 1}}, input_tokens: {constant: 100}, output_tokens: {constant: 20}}
            degradation:
              - name: squeeze
                script: [{provider: alpha, from: 40, to: 80, state: squeeze}]
            """

        static func rows(_ url: URL) throws -> [[String]] {
            try String(contentsOf: url, encoding: .utf8).split(separator: "\r\n").map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
        }

        @Test(
            "the incident's tables say what the load generator and the gateway counted, its review exports; bad traces and other specs' traces are refused"
        )
        func recordedTwin() async throws {
            let directory = try CommandRunner.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let specURL = directory.appendingPathComponent("spec.yaml")
            try Self.spec.write(to: specURL, atomically: true, encoding: .utf8)
            let twinOut = directory.appendingPathComponent("twin")
            let brownout = Self.binaries.appendingPathComponent("brownout")
            let twin = try await CommandRunner.run(brownout, ["twin", specURL.path, "--scale", "20", "--replications", "3", "--out", twinOut.path])
            try #require(twin.status == 0, "\(twin.stderr)")
            let trace = twinOut.appendingPathComponent("gateway-trace").path, gatewaySpec = twinOut.appendingPathComponent("gateway.yaml").path

            // The measured window, as the twin's clients measured it (arrivals after the warm-up).
            let out = directory.appendingPathComponent("incident")
            let windowed = try await CommandRunner.run(
                brownout, ["incident", trace, "--spec", gatewaySpec, "--from", "10", "--to", "120", "--out", out.path])
            try #require(windowed.status == 0, "\(windowed.stderr)")
            // The window against the twin's clients: they count what they sent after the warm-up,
            // the gateway what arrived after it, a transport later; under a loaded machine that is
            // tens of model milliseconds at either edge, a request or two at 4 a second. The bar,
            // 5% of the team's requests, is a quarter of a second's lateness at each edge at 20×.
            let live = try Self.rows(twinOut.appendingPathComponent("twin.csv"))
            let perTeam = try Self.rows(out.appendingPathComponent("per_team.csv"))
            let header = try #require(perTeam.first)
            func column(_ name: String) throws -> Int { try #require(header.firstIndex(of: name), "per_team.csv has \(name)") }
            for team in ["app", "ops"] {
                let row = try #require(perTeam.first { $0[1] == team })
                let liveRequests = try #require(live.first { $0[0] == team && $0[1] == "requests" }.flatMap { Double($0[5]) })
                let requests = try #require(Double(row[try column("requests")]))
                #expect(
                    abs(requests - liveRequests) <= 0.05 * liveRequests,
                    "\(team): \(requests) requests recorded, \(liveRequests) sent after the warm-up")
            }
            let timeline = try Self.rows(out.appendingPathComponent("timeline.csv"))
            let overloaded = try #require(timeline.first?.firstIndex(of: "overloaded_529"))
            let squeezed = timeline.dropFirst().filter { $0[0] == "alpha" && (Int($0[overloaded]) ?? 0) > 0 }.map { Double($0[2]) ?? -1 }
            #expect(
                !squeezed.isEmpty && squeezed.allSatisfy { $0 >= 0 && $0 <= 80 },
                "alpha's 529s come in the squeeze (40–80 s, from 10 s): minutes \(squeezed)")

            // The incident review: the planning review's charts, read from the recorded tables.
            let review = try await CommandRunner.run(brownout, ["export", out.path, "--format", "html"])
            #expect(review.status == 0, "\(review.stderr)")
            let page = (try? String(contentsOf: out.appendingPathComponent("review.html"), encoding: .utf8)) ?? ""
            for heading in ["Incident review", "What the gateways recorded", "Availability over time", "Chargeback"] {
                #expect(page.contains(heading), "review.html has '\(heading)'")
            }

            // The whole trace: the chargeback is what the gateway charged, to the cent's millionth.
            let whole = directory.appendingPathComponent("whole")
            // Without --spec: the spec the gateway kept beside its trace.
            let all = try await CommandRunner.run(brownout, ["incident", trace, "--out", whole.path])
            try #require(all.status == 0, "\(all.stderr)")
            // The whole trace against the gateway's own final metrics, which count the same
            // requests and attempts: exactly.
            let metrics = try String(contentsOf: twinOut.appendingPathComponent("gateway-metrics.txt"), encoding: .utf8)
            func metric(_ prefix: String) -> Double {
                metrics.split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
                    .reduce(0, +)
            }
            let wholeTeams = try Self.rows(whole.appendingPathComponent("per_team.csv"))
            let columns = try #require(wholeTeams.first)
            let total = try #require(columns.firstIndex(of: "total_usd")), requestsColumn = try #require(columns.firstIndex(of: "requests"))
            let availabilityColumn = try #require(columns.firstIndex(of: "availability"))
            for team in ["app", "ops"] {
                let row = try #require(wholeTeams.first { $0[1] == team })
                let charged = metric(#"brownout_team_spend_usd{team="\#(team)"}"#)
                let recorded = try #require(Double(row[total]))
                #expect(abs(recorded - charged) <= 1e-6, "\(team): incident \(recorded), gateway \(charged)")
                let counted = metric(#"brownout_requests_total{team="\#(team)","#)
                let answered = metric(#"brownout_requests_total{team="\#(team)",result="success"}"#)
                #expect(
                    Double(row[requestsColumn]) == counted, "\(team): \(row[requestsColumn]) requests in the trace, \(counted) counted by the gateway"
                )
                let availability = try #require(Double(row[availabilityColumn]))
                #expect(abs(availability - answered / counted) <= 1e-6, "\(team): availability \(availability), the gateway's \(answered / counted)")
            }
            let wholeProviders = try Self.rows(whole.appendingPathComponent("per_provider.csv"))
            for name in ["alpha", "beta"] {
                let offered = try #require(wholeProviders.first { $0[1] == name }.flatMap { Double($0[3]) })
                #expect(offered == metric(#"brownout_attempts_total{upstream="\#(name)","#), "\(name): \(offered) attempts in the trace")
            }

            // Another spec's trace (its routing differs), a trace cut mid-line, a missing one:
            // one located line each, nothing written.
            for (arguments, message) in [
                ([trace, "--spec", specURL.path, "--set", "routes.chat.retry.max_attempts=3"], "routing config"),
                ([directory.appendingPathComponent("nowhere").path, "--spec", gatewaySpec], "cannot read"),
                ([trace, "--spec", gatewaySpec, "--from", "yesterday"], "--from 'yesterday'"),
            ] {
                let refused = directory.appendingPathComponent("refused")
                let result = try await CommandRunner.run(brownout, ["incident"] + arguments + ["--out", refused.path])
                #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: refused.path))
            }
            let cut = directory.appendingPathComponent("cut.jsonl")
            let text = try String(contentsOfFile: trace + "/trace.jsonl", encoding: .utf8)
            let lines = text.split(separator: "\n")
            try (lines.prefix(40).joined(separator: "\n") + "\n" + lines[40].prefix(30)).write(to: cut, atomically: true, encoding: .utf8)
            let truncated = try await CommandRunner.run(
                brownout, ["incident", cut.path, "--spec", gatewaySpec, "--out", directory.appendingPathComponent("cut").path])
            #expect(truncated.status != 0 && truncated.stderr.contains("cut.jsonl:41"), "\(truncated.stderr)")
            // A decision log: named as one, and what to give instead.
            let decisions = directory.appendingPathComponent("decisions.jsonl")
            try Data(
                (#"{"action":"complete","attempt":1,"delay_ns":0,"reasons":["success"],"rejected":[],"request_id":1,"route":"chat","target":"beta","time_ns":3138679881}"#
                    + "\n").utf8
            ).write(to: decisions)
            let log = try await CommandRunner.run(
                brownout, ["incident", decisions.path, "--spec", gatewaySpec, "--out", directory.appendingPathComponent("log").path])
            #expect(
                log.status != 0 && log.stderr.contains("decisions.jsonl:1: a decision log, not a router trace") && log.stderr.contains("--record"),
                "\(log.stderr)")
            // A trace with no spec beside it, and none given.
            let bare = directory.appendingPathComponent("bare-trace")
            try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: trace + "/trace.jsonl", toPath: bare.appendingPathComponent("trace.jsonl").path)
            let unspecified = try await CommandRunner.run(brownout, ["incident", bare.path, "--out", directory.appendingPathComponent("bare").path])
            #expect(
                unspecified.status != 0 && unspecified.stderr.contains("bare-trace/spec.yaml: not there")
                    && unspecified.stderr.contains("give --spec"),
                "\(unspecified.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("bare").path))
        }
    }
}
