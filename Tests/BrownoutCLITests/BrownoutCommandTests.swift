import ChildProcesses
import Foundation
import ProcessTestSupport
import Testing

@Suite("brownout CLI, end to end", .timeLimit(.minutes(10)))
struct BrownoutCommandTests {
    @Test("--version and --help work for the tool and every subcommand")
    func versionAndHelp() async throws {
        let version = try await CommandRunner.run("brownout", ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout == "0.2.0\n")
        for arguments in [
            ["--help"], ["run", "--help"], ["validate", "--help"], ["sweep", "--help"], ["merge", "--help"], ["size-fallback", "--help"],
            ["sample", "--help"],
        ] {
            let help = try await CommandRunner.run("brownout", arguments)
            #expect(help.status == 0, "\(arguments)")
            #expect(help.stdout.contains("USAGE:"), "\(arguments)")
        }
        let benchHelp = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--help"])
        #expect(benchHelp.status == 0)
    }

    @Test("sample summarises draws next to the exact moments")
    func sampleSummary() async throws {
        let output = try await CommandRunner.run("brownout", ["sample", "exponential", "mean=2", "--count", "1000"])
        #expect(output.status == 0)
        #expect(output.stdout.contains("distribution  exponential(mean: 2.0)"))
        #expect(output.stdout.contains("(exact 2)"))
        #expect(output.stderr.isEmpty)
    }

    @Test("sample writes the same CSV bytes for the same seed, different ones for another")
    func sampleCSVIsDeterministic() async throws {
        let directory = try CommandRunner.temporaryDirectory()
        let first = directory.appendingPathComponent("a.csv").path
        let second = directory.appendingPathComponent("b.csv").path
        let third = directory.appendingPathComponent("c.csv").path
        _ = try await CommandRunner.run("brownout", ["sample", "gamma", "shape=2", "scale=0.5", "--count", "500", "--seed", "7", "--out", first])
        _ = try await CommandRunner.run("brownout", ["sample", "gamma", "shape=2", "scale=0.5", "--count", "500", "--seed", "7", "--out", second])
        _ = try await CommandRunner.run("brownout", ["sample", "gamma", "shape=2", "scale=0.5", "--count", "500", "--seed", "8", "--out", third])
        let a = try Data(contentsOf: URL(fileURLWithPath: first))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: second))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: third))))
        #expect(String(decoding: a, as: UTF8.self).split(separator: "\n").count == 501)
        // Only the three outputs: no temporary file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["a.csv", "b.csv", "c.csv"])
    }

    @Test(
        "bad input gets one clear line on stderr, a non-zero exit and no output file",
        arguments: [
            (["sample", "lognormal", "median=0.8", "p99=0.5"], "Error: lognormal: p99 must be > median, got median 0.8, p99 0.5"),
            (["sample", "lognormal", "median=0.8", "p9=4"], "Error: lognormal: unknown parameter 'p9'; lognormal takes mu sigma | median p99"),
            (
                ["sample", "weibul", "shape=1"],
                "Error: unknown distribution 'weibul'; valid kinds are constant, uniform, exponential, normal, lognormal, gamma, weibull, pareto, beta, bernoulli, empirical"
            ),
            (
                ["sample", "empirical", "file=/nonexistent/latency.csv", "column=latency_s"],
                "Error: /nonexistent/latency.csv: file not found or not readable"
            ),
            (["sample", "gamma", "shape=2"], "Error: gamma: missing parameter 'scale'; gamma takes shape scale"),
            (["sample", "pareto", "shape=-1", "scale=1"], "Error: pareto: shape must be a finite number > 0, got -1.0"),
        ])
    func badInput(arguments: [String], message: String) async throws {
        let directory = try CommandRunner.temporaryDirectory()
        let out = directory.appendingPathComponent("draws.csv").path
        let output = try await CommandRunner.run("brownout", arguments + ["--out", out])
        #expect(output.status == 1)
        #expect(output.stderr == message + "\n")
        #expect(output.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("a bad flag names the flag and the valid range")
    func badFlag() async throws {
        let output = try await CommandRunner.run("brownout", ["sample", "constant", "value=1", "--count", "0"])
        #expect(output.status == 64)
        #expect(output.stderr.hasPrefix("Error: --count must be between 1 and 100000000, got 0\n"))
        let unknown = try await CommandRunner.run("brownout", ["sample", "constant", "value=1", "--cuont", "3"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.hasPrefix("Error: Unknown option '--cuont'"))
    }
}

@Suite("brownout-bench kernel-toy", .timeLimit(.minutes(10)))
struct KernelToyCommandTests {
    struct Report: Decodable {
        let requests: Int
        let ok: Int
        let failed: Int
        let attempts: Int
        let events: Int
        let wall_seconds: Double
        let requests_per_second: Double
    }

    @Test("the toy model conserves requests and is reproducible")
    func toyModel() async throws {
        let first = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--duration", "20", "--seed", "3"])
        let second = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--duration", "20", "--seed", "3"])
        #expect(first.status == 0)
        let a = try JSONDecoder().decode(Report.self, from: Data(first.stdout.utf8))
        let b = try JSONDecoder().decode(Report.self, from: Data(second.stdout.utf8))
        #expect(a.ok + a.failed == a.requests)
        // Each request makes 1 to 3 attempts; each attempt and each arrival is one event.
        #expect(a.attempts >= a.requests && a.attempts <= 3 * a.requests)
        #expect(a.events == a.requests + a.attempts)
        // 20 s at 1000 req/s: Poisson count, standard deviation √20000 ≈ 141; 5 of them.
        #expect(abs(a.requests - 20_000) < 710)
        #expect((a.requests, a.ok, a.failed, a.attempts, a.events) == (b.requests, b.ok, b.failed, b.attempts, b.events))
    }

    /// The floor of issue 29: the flagship's draws replace the toy's latency draw, from streams
    /// of their own, so arrivals and failures (and so every count) stay the toy's.
    @Test("--draws flagship keeps the toy's arrivals and failures; an unknown --draws or a missing --spec is refused")
    func flagshipDraws() async throws {
        let toy = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--duration", "10", "--seed", "5"])
        let flagship = BuiltProducts.checkout.appendingPathComponent("experiments/april-correlated-529.yaml").path
        let floor = try await CommandRunner.run(
            "brownout-bench", ["kernel-toy", "--duration", "10", "--seed", "5", "--draws", "flagship", "--spec", flagship])
        #expect(floor.status == 0)
        let a = try JSONDecoder().decode(Report.self, from: Data(toy.stdout.utf8))
        let b = try JSONDecoder().decode(Report.self, from: Data(floor.stdout.utf8))
        #expect((a.requests, a.ok, a.failed, a.attempts, a.events) == (b.requests, b.ok, b.failed, b.attempts, b.events))
        #expect(floor.stdout.contains(#""draws": "flagship""#))
        let unknown = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--draws", "flagships"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("--draws"))
        let missing = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--draws", "flagship", "--spec", "no-such-spec.yaml"])
        #expect(missing.status == 64 && missing.stdout.isEmpty)
        #expect(missing.stderr.hasPrefix("Error: no-such-spec.yaml: file not found"))
    }

    @Test("replications give the same totals whatever --jobs is")
    func jobsDoNotChangeResults() async throws {
        let serial = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--duration", "5", "--replications", "6", "--jobs", "1"])
        let parallel = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--duration", "5", "--replications", "6", "--jobs", "2"])
        let single = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--duration", "5"])
        let a = try JSONDecoder().decode(Report.self, from: Data(serial.stdout.utf8))
        let b = try JSONDecoder().decode(Report.self, from: Data(parallel.stdout.utf8))
        let one = try JSONDecoder().decode(Report.self, from: Data(single.stdout.utf8))
        #expect((a.requests, a.ok, a.failed, a.attempts, a.events) == (b.requests, b.ok, b.failed, b.attempts, b.events))
        // Six replications draw six different sample paths: about six times one of them.
        #expect(a.requests > 5 * one.requests && a.requests < 7 * one.requests)
    }

    @Test("the routing-core benchmark routes every request and is reproducible")
    func routingCoreBenchmark() async throws {
        struct RoutingReport: Decodable { let requests: Int; let decisions: Int; let checksum: Int64; let successful_usd: Double }
        let first = try await CommandRunner.run("brownout-bench", ["routing-core", "--requests", "1000"])
        let second = try await CommandRunner.run("brownout-bench", ["routing-core", "--requests", "1000"])
        #expect(first.status == 0)
        let a = try JSONDecoder().decode(RoutingReport.self, from: Data(first.stdout.utf8))
        let b = try JSONDecoder().decode(RoutingReport.self, from: Data(second.stdout.utf8))
        #expect(a.decisions == 2_000)
        #expect((a.checksum, a.successful_usd) == (b.checksum, b.successful_usd))
        // Every request completes on its first attempt: the checksum adds target index + 1.
        #expect(a.checksum >= 1_000 && a.checksum <= 3_000)
        // Each answer costs between google's $0.00525 and anthropic's $0.009.
        #expect(a.successful_usd > 1_000 * 0.00525 - 0.01 && a.successful_usd < 1_000 * 0.009 + 0.01)
    }

    @Test("a bad duration is rejected")
    func badDuration() async throws {
        let output = try await CommandRunner.run("brownout-bench", ["kernel-toy", "--duration=-5"])
        #expect(output.status == 64)
        #expect(output.stderr.hasPrefix("Error: --duration must be a number of seconds in (0, 10000000], got -5.0\n"))
    }
}

@Suite("brownout run and validate, end to end", .timeLimit(.minutes(10)))
struct RunCommandTests {
    static let spec = """
        name: cli-tiny
        run: {duration_s: 120, replications: 3, seed: 8, bucket_s: 30}
        providers:
          alpha:
            concurrency: 5
            queue: 5
            ttft_s: {lognormal: {median: 0.5, p99: 2}}
            output_tokens_per_s: {constant: 100}
            input_usd_per_mtok: 3
            output_usd_per_mtok: 15
            states:
              squeeze: {errors: {overloaded_529: 0.5}, capacity: 0.5}
        pools:
          gpu: {replicas: 1, concurrency_per_replica: 4, queue: 4, replica_output_tokens_per_s: 400, ttft_s: {constant: 0.2}, gpu_usd_per_hour: 4.25}
        routes:
          chat: {chain: [[alpha]], fallback: {pools: [gpu]}, retry: {max_attempts: 3}}
        gateway:
          breaker: {consecutive_failures: 3, open_s: 5}
        teams:
          app:
            route: chat
            arrivals: {poisson: {rate_per_s: 3}}
            input_tokens: {constant: 500}
            output_tokens: {lognormal: {median: 100, p99: 400}}
        degradation:
          - name: squeeze
            script: [{provider: alpha, from: 30, to: 90, state: squeeze}]
        """

    func write(_ text: String) throws -> (URL, URL) {
        let directory = try CommandRunner.temporaryDirectory()
        let spec = directory.appendingPathComponent("spec.yaml")
        try text.write(to: spec, atomically: true, encoding: .utf8)
        return (directory, spec)
    }

    @Test("run writes the five outputs, byte-identical CSVs whatever --jobs is")
    func runIsDeterministicAcrossJobs() async throws {
        let (directory, spec) = try write(Self.spec)
        let one = directory.appendingPathComponent("one").path
        let two = directory.appendingPathComponent("two").path
        let first = try await CommandRunner.run("brownout", ["run", spec.path, "--out", one, "--jobs", "1"])
        let second = try await CommandRunner.run("brownout", ["run", spec.path, "--out", two, "--jobs", "2"])
        #expect(first.status == 0 && second.status == 0, "\(first.stderr)\(second.stderr)")
        #expect(first.stdout.contains("cli-tiny, 3 replications: app was"))
        #expect(first.stderr.isEmpty, "no progress bar when stderr is not a terminal")
        for file in ["summary.csv", "per_team.csv", "per_provider.csv", "timeseries.csv", "provider_timeseries.csv"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: one).appendingPathComponent(file))
            let b = try Data(contentsOf: URL(fileURLWithPath: two).appendingPathComponent(file))
            #expect(a == b, "\(file) differs between --jobs 1 and --jobs 2")
            #expect(!a.isEmpty)
        }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: one).sorted() == [
                "per_provider.csv", "per_team.csv", "provider_timeseries.csv", "run.json", "summary.csv", "timeseries.csv",
            ])
        let summary = try String(contentsOfFile: one + "/summary.csv", encoding: .utf8)
        #expect(summary.hasPrefix("variant,scope,metric,mean,ci95_low,ci95_high,n\r\nbaseline,app,requests,"))
    }

    @Test("an invalid spec gets one line naming file:line:column and writes nothing")
    func invalidSpecWritesNothing() async throws {
        let (directory, spec) = try write(Self.spec.replacingOccurrences(of: "queue: 5", with: "queeu: 5"))
        let out = directory.appendingPathComponent("out").path
        let result = try await CommandRunner.run("brownout", ["run", spec.path, "--out", out])
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "Error: \(spec.path):6:5: providers.alpha.queeu: unknown key 'queeu'; did you mean 'queue'? Valid keys: breaker, concurrency, context_window_tokens, hang_s, input_tpm, input_usd_per_mtok, output_tokens_per_s, output_tpm, output_usd_per_mtok, quality_tier, queue, rpm, states, ttft_s, typical_retry_after_s\n"
        )
        #expect(!FileManager.default.fileExists(atPath: out))
        let missing = try await CommandRunner.run("brownout", ["run", directory.appendingPathComponent("nope.yaml").path, "--out", out])
        #expect(missing.status == 1 && missing.stderr.hasSuffix("nope.yaml: file not found or not readable\n"))
    }

    @Test("validate prints each route's limits in force and the router's lint findings")
    func validatePrintsLint() async throws {
        let (_, spec) = try write(Self.spec)
        // A first-token limit within the team's SLO (30 s at p99, the default).
        let limited = ["--set", "routes.chat.timeouts.first_token_s=20"]
        let result = try await CommandRunner.run("brownout", ["validate", spec.path] + limited)
        #expect(result.status == 0)
        // Three attempts on a one-target chain would be linted, but the fallback pool makes
        // retries useful: no findings at all.
        #expect(
            result.stdout == """
                \(spec.path): valid — 1 provider, 1 pool, 1 team, 1 degradation process, 3 replications of 120 s
                route chat: first token 20 s, per try none, idle 300 s (default), overall 600 s (default)
                no lint findings

                """)
        #expect(result.stderr.isEmpty)
        let lint = try await CommandRunner.run("brownout", ["validate", spec.path, "--set", "routes.chat.retry.max_attempts=6"] + limited)
        #expect(lint.status == 0, "warnings do not fail validation")
        #expect(
            lint.stdout == """
                \(spec.path): valid — 1 provider, 1 pool, 1 team, 1 degradation process, 3 replications of 120 s
                route chat: first token 20 s, per try none, idle 300 s (default), overall 600 s (default)
                warning: routes.chat.retry: worst-case amplification is 6 attempts per request (threshold 5); SDK retries multiply it further

                """)
        // Without a first-token limit, the default (300 s) is longer than the SLO allows.
        let defaults = try await CommandRunner.run("brownout", ["validate", spec.path])
        #expect(
            defaults.stdout == """
                \(spec.path): valid — 1 provider, 1 pool, 1 team, 1 degradation process, 3 replications of 120 s
                route chat: first token 300 s (default), per try none, idle 300 s (default), overall 600 s (default)
                warning: routes.chat.timeouts.first_token_s: an attempt may wait 300 s for its first token (the default; the route sets no first_token_s), \
                longer than team app's SLO allows a whole request (p99 ≤ 30 s): such a request has missed its SLO before the next target is tried

                """)
    }
}

@Suite("Variants, sweeps, shards and merge, end to end", .timeLimit(.minutes(10)))
struct PlanningCommandTests {
    func spec(_ extra: String = "") throws -> (URL, URL) {
        let directory = try CommandRunner.temporaryDirectory()
        let spec = directory.appendingPathComponent("spec.yaml")
        try (RunCommandTests.spec + extra).write(to: spec, atomically: true, encoding: .utf8)
        return (directory, spec)
    }

    @Test("a variant that changes nothing differs from the baseline by exactly zero: common random numbers")
    func commonRandomNumbers() async throws {
        let (directory, spec) = try spec(
            """

            variants:
              same: {providers.alpha.concurrency: 5}
              bigger: {providers.alpha.concurrency: 20}
            """)
        let result = try await CommandRunner.run("brownout", ["run", spec.path, "--out", directory.appendingPathComponent("out").path])
        #expect(result.status == 0, "\(result.stderr)")
        let compare = try String(contentsOfFile: directory.appendingPathComponent("out/compare.csv").path, encoding: .utf8)
        let lines = compare.components(separatedBy: "\r\n")
        #expect(lines[0] == "variant,baseline,scope,metric,baseline_mean,variant_mean,difference_mean,difference_ci95_low,difference_ci95_high,n")
        let same = lines.filter { $0.hasPrefix("same,baseline,app,") }
        #expect(!same.isEmpty)
        #expect(same.allSatisfy { $0.hasSuffix(",0,0,0,3") }, "identical worlds, identical draws")
        #expect(lines.contains { $0.hasPrefix("bigger,baseline,app,availability,") && !$0.hasSuffix(",0,0,0,3") })
    }

    @Test("a sweep's shards merge into exactly the bytes of the unsharded sweep")
    func shardsMerge() async throws {
        let (directory, spec) = try spec()
        let vary = ["--vary", "providers.alpha.concurrency=3,5,8", "--vary", "routes.chat.retry.max_attempts=1,3"]
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let whole = try await CommandRunner.run("brownout", ["sweep", spec.path] + vary + ["--out", path("all")])
        #expect(whole.status == 0, "\(whole.stderr)")
        for index in 0..<3 {
            let shard = try await CommandRunner.run(
                "brownout", ["sweep", spec.path] + vary + ["--out", path("shard\(index)"), "--shard", "\(index)/3", "--jobs", "1"])
            #expect(shard.status == 0)
        }
        let merge = try await CommandRunner.run("brownout", ["merge", path("shard2"), path("shard0"), path("shard1"), "--out", path("merged")])
        #expect(merge.status == 0, "\(merge.stderr)")
        for file in ["sweep.csv", "sweep.json"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: path("all/\(file)"))) == Data(contentsOf: URL(fileURLWithPath: path("merged/\(file)"))))
        }
        let rows = try String(contentsOfFile: path("all/sweep.csv"), encoding: .utf8).components(separatedBy: "\r\n")
        #expect(rows[0] == "point,providers.alpha.concurrency,routes.chat.retry.max_attempts,scope,metric,mean,ci95_low,ci95_high,n")
        #expect(Set(rows.dropFirst().compactMap { $0.split(separator: ",").first.map(String.init) }) == ["0", "1", "2", "3", "4", "5"])
    }

    @Test(
        "bad shard specs and incomplete merges get one line and write nothing",
        arguments: [
            (["--shard", "3/2"], "Error: --shard must be i/n with 0 ≤ i < n (e.g. 0/4 … 3/4), got '3/2'"),
            (["--shard", "x"], "Error: --shard must be i/n with 0 ≤ i < n (e.g. 0/4 … 3/4), got 'x'"),
            (["--vary", "providers.alpha.concurency=1,2"], "providers.alpha.concurency: unknown key 'concurency'; did you mean 'concurrency'?"),
        ])
    func badInput(arguments: [String], message: String) async throws {
        let (directory, spec) = try spec()
        let out = directory.appendingPathComponent("out").path
        let result = try await CommandRunner.run(
            "brownout", ["sweep", spec.path, "--vary", "providers.alpha.concurrency=3,5", "--out", out] + arguments)
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

@Suite("brownout size-fallback, end to end", .timeLimit(.minutes(10)))
struct SizeFallbackCommandTests {
    /// Only the pool serves: the route's one provider is down for the whole run.
    static let downSpec = RunCommandTests.spec
        .replacingOccurrences(
            of: "script: [{provider: alpha, from: 30, to: 90, state: squeeze}]", with: "script: [{provider: alpha, from: 0, to: 120, state: squeeze}]"
        )
        .replacingOccurrences(of: "squeeze: {errors: {overloaded_529: 0.5}, capacity: 0.5}", with: "squeeze: {errors: {overloaded_529: 1}}")

    /// Runs `size-fallback` on the spec `text` for pool gpu against `app.availability>=0.9`, up
    /// to 8 replicas; returns what it printed and its output directory.
    static func size(_ text: String) async throws -> (result: ChildOutput, out: String) {
        let directory = try CommandRunner.temporaryDirectory()
        let spec = directory.appendingPathComponent("spec.yaml")
        try text.write(to: spec, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("sizing").path
        let result = try await CommandRunner.run(
            "brownout", ["size-fallback", spec.path, "--pool", "gpu", "--slo", "app.availability>=0.9", "--max", "8", "--out", out])
        return (result, out)
    }

    /// `out/sizing.csv`: its header line, and each evaluated size's fields.
    static func table(_ out: String) throws -> (header: String, rows: [[String]]) {
        let lines = try String(contentsOfFile: out + "/sizing.csv", encoding: .utf8).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        return (lines[0], lines.dropFirst().map { $0.split(separator: ",").map(String.init) })
    }

    static func manifest(_ out: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/sizing.json"))) as! [String: Any]
    }

    @Test("finds the smallest pool meeting the SLO and writes sizing.csv")
    func sizes() async throws {
        let (result, out) = try await Self.size(Self.downSpec)
        #expect(result.status == 0, "\(result.stderr)")
        // Seed 8 fixes every draw, so the answer and the sizes the search evaluated are exact:
        // 1 replica (the pool's size, where the search starts) falls short: its first look (3
        // replications) leaves it open, and its last (12, at 97.5%) lies below 0.9; 2 meets the
        // SLO at its first look (3, at 98.75%), and 3 is the neighbour checked above it.
        #expect(
            result.stdout
                == "The smallest gpu pool that meets every SLO at 95% confidence has 2 replicas (2 GPUs): $6205 a month in GPU time. Evaluated: 1, 2, 3; see \(out)/sizing.csv.\n"
        )
        let (header, rows) = try Self.table(out)
        #expect(
            header
                == "replicas_in_pool,replications,look_confidence,app.availability>=0.9 mean,app.availability>=0.9 ci_low,app.availability>=0.9 ci_high,app.availability>=0.9 met,all_met,run_cost_usd,monthly_pool_gpu_usd"
        )
        // replicas, replications, the look's confidence, met, all_met, monthly cost of each size evaluated.
        let evaluated = rows.map { [$0[0], $0[1], $0[2], $0[6], $0[7], $0[9]] }
        #expect(
            evaluated == [
                ["1", "12", "0.975", "false", "false", "3102.5"], ["2", "3", "0.9875", "true", "true", "6205"],
                ["3", "3", "0.9875", "true", "true", "9307.5"],
            ])
    }

    /// The pool is only a fallback, the provider barely falters and has room to spare (a
    /// request a second for 5 servers of about 1.5 s each): the route needs no pool.
    static let healthySpec = RunCommandTests.spec
        .replacingOccurrences(of: "squeeze: {errors: {overloaded_529: 0.5}, capacity: 0.5}", with: "squeeze: {errors: {overloaded_529: 0.01}}")
        .replacingOccurrences(of: "rate_per_s: 3", with: "rate_per_s: 1")

    @Test("answers that no pool is needed when the route meets the SLOs without it, and prices that size at the spend alone")
    func noPoolNeeded() async throws {
        let (result, out) = try await Self.size(Self.healthySpec)
        #expect(result.status == 0, "\(result.stderr)")
        // 1 replica (where the search starts) meets the SLO at its first look, so 0 (the pool
        // taken out of the route) is judged, thoroughly, and meets it too.
        #expect(
            result.stdout
                == "No gpu pool is needed: with it taken out of every route, every SLO is met at 95% confidence. Evaluated: 0, 1; see \(out)/sizing.csv.\n"
        )
        let rows = try Self.table(out).rows
        #expect(rows.map { [$0[0], $0[6], $0[9]] } == [["0", "true", "0"], ["1", "true", "3102.5"]])
        // Size 0 costs the frontier spend alone; size 1 adds the replica's GPU time (4.25 $/h for 120 s).
        let cost = rows.map { Double($0[8])! }
        #expect(cost[1] - cost[0] > 0.9 * 4.25 * 120 / 3600, "\(cost)")
        let manifest = try Self.manifest(out)
        #expect(manifest["answer"] as? Int == 0)
        #expect(manifest["smallest_size_considered"] as? Int == 0)
    }

    @Test("a pool in a route's chain is never sized to 0: without it the route would be another route")
    func chainPoolNotRemoved() async throws {
        let (result, out) = try await Self.size(
            Self.healthySpec.replacingOccurrences(of: "chain: [[alpha]], fallback: {pools: [gpu]}", with: "chain: [[alpha], [gpu]]"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("The smallest gpu pool that meets every SLO at 95% confidence has 1 replica (1 GPU)"), "\(result.stdout)")
        let sizes = try Self.table(out).rows.map { $0[0] }
        #expect(!sizes.contains("0"), "\(sizes)")
        #expect(try Self.manifest(out)["smallest_size_considered"] as? Int == 1)
    }

    @Test(
        "bad sizing input gets one clear line and writes nothing",
        arguments: [
            (["--pool", "gpu", "--slo", "ap.availability>=0.9"], "Error: --slo ap.availability>=0.9: unknown team 'ap'; teams: app, or all"),
            (
                ["--pool", "gpu", "--slo", "app.availabilty>=0.9"],
                "Error: --slo app.availabilty>=0.9: unknown metric 'availabilty'; did you mean 'availability'?"
            ),
            (["--pool", "gpus", "--slo", "app.availability>=0.9"], "Error: --pool gpus: no such pool; pools: gpu"),
            (
                ["--pool", "gpu", "--slo", "app.availability>=0.9", "--max", "1", "--set", "pools.gpu.replicas=2"],
                "Error: --max 1 is below the pool's current size (2 replicas)"
            ),
            (["--pool", "gpu", "--slo", "app.availability=0.9"], "Error: --slo must be team.metric>=value or team.metric<=value"),
        ])
    func badInput(arguments: [String], message: String) async throws {
        let directory = try CommandRunner.temporaryDirectory()
        let spec = directory.appendingPathComponent("spec.yaml")
        try RunCommandTests.spec.write(to: spec, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("sizing").path
        let result = try await CommandRunner.run("brownout", ["size-fallback", spec.path, "--out", out] + arguments)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

@Suite("Spec reader fuzz regressions", .timeLimit(.minutes(10)))
struct SpecFuzzRegressionTests {
    @Test("every input in Tests/Fuzz/regressions goes through the spec reader without a trap")
    func replay() async throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Fuzz/regressions")
        let inputs = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { directory.appendingPathComponent($0).path }
        #expect(inputs.count >= 4)
        let result = try await CommandRunner.run("brownout-spec-fuzz", inputs)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == inputs.count, "one verdict per input, none cut short by a crash")
        #expect(lines.allSatisfy { $0.contains(": rejected: ") || $0.hasSuffix(": valid") })
        #expect(result.stdout.contains("empty-file.yaml: rejected: ") && result.stdout.contains("the file is empty"))
        #expect(result.stdout.contains("include-device.yaml: rejected: ") && result.stdout.contains("not a regular file"))
    }
}

/// Heap allocations on the hot paths, counted by `brownout-bench allocations` (an allocation
/// interposer, as swift-nio's allocation tests use). Counts are deterministic for a binary, so
/// they can be held to thresholds; wall-clock time never is. The release build is measured (a
/// debug build allocates for closure contexts the optimiser keeps on the stack); `make test`
/// builds it and passes its directory as BROWNOUT_RELEASE_BIN.
@Suite("Allocations on the hot paths", .timeLimit(.minutes(10)))
struct AllocationCountTests {
    struct Counts: Decodable {
        let kernel_allocations_per_event: Double
        let kernel_events: Int
        let router_allocations_per_request: Double
        let router_requests: Int
        let flagship_allocations_per_request: Double
        let flagship_requests: Int
    }

    @Test("the kernel allocates nothing per event, the router nothing per request, a flagship replication next to nothing per request")
    func hotPathsDoNotAllocate() async throws {
        let repository = BuiltProducts.checkout
        let bench = BuiltProducts.release.appendingPathComponent("brownout-bench")
        guard FileManager.default.isExecutableFile(atPath: bench.path) else {
            Issue.record("no release brownout-bench at \(bench.path): build it first (make test does)")
            return
        }
        let result = try await CommandRunner.run(
            bench, ["allocations", "--spec", repository.appendingPathComponent("experiments/april-correlated-529.yaml").path])
        #expect(result.status == 0, "\(result.stderr)")
        let counts = try JSONDecoder().decode(Counts.self, from: Data(result.stdout.utf8))
        #expect(counts.kernel_events > 50_000 && counts.router_requests == 50_000 && counts.flagship_requests > 50_000)
        // Measured 2026-11-26: 0, 0 and 0.0002 (17 allocations over 79,000 requests: time
        // buckets and tables growing). One allocation per event or request would read 1.
        #expect(counts.kernel_allocations_per_event <= 0.001, "\(counts.kernel_allocations_per_event) allocations per event")
        #expect(counts.router_allocations_per_request <= 0.001, "\(counts.router_allocations_per_request) allocations per request")
        #expect(counts.flagship_allocations_per_request <= 0.01, "\(counts.flagship_allocations_per_request) allocations per request")
    }
}
