import ConfigSchema
import Foundation
import GatewaySim
import RoutingCore
import SimulationKernel
import Testing

@testable import Experiments

/// `gateway.replicas` and `gateway.breaker_scope`: how many attempts a provider that is down
/// for the whole run takes from four replicas whose breakers are their own, and from four
/// that share them, against the closed form.
@Suite("Simulation: gateway replicas and shared breakers")
struct GatewayReplicasSimulationTests {
    /// claude answers every attempt with a 529 for the whole 600 s; gpt is healthy behind it.
    /// Each request tries claude, then gpt. Breakers: 5 failures in a row open one for 30 s
    /// (no growth), one probe.
    static func spec(replicas: Int, scope: String, delay: Double = 0.05, replications: Int = 1) -> String {
        """
        name: replicas
        run: {duration_s: 600, replications: \(replications), seed: 3}
        providers:
          claude:
            concurrency: 100
            ttft_s: 0.2
            output_tokens_per_s: 100
            input_usd_per_mtok: 3
            output_usd_per_mtok: 15
            states:
              down: {errors: {overloaded_529: 1}}
          gpt: {concurrency: 100, ttft_s: 0.2, output_tokens_per_s: 100, input_usd_per_mtok: 1, output_usd_per_mtok: 5}
        routes:
          chat: {chain: [[claude], [gpt]], retry: {max_attempts: 2, target: next, backoff: {kind: none}}}
        gateway:
          replicas: \(replicas)
          breaker_scope: \(scope)
          propagation_delay_s: \(delay)
          breaker: {consecutive_failures: 5, open_s: 30, open_growth: 1, half_open_probes: 1}
        teams:
          app: {route: chat, arrivals: {poisson: {rate_per_s: 10}}, input_tokens: 100, output_tokens: 10}
        degradation:
          - name: outage
            script: [{provider: claude, from: 0, to: 600, state: down}]
        """
    }

    static func run(_ text: String) throws -> ReplicationResult {
        try runs(text)[0]
    }

    static func runs(_ text: String) throws -> [ReplicationResult] {
        let directory = try specDirectory(["spec.yaml": text])
        let spec = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml"))
        return try Experiment.simulate([spec], jobs: 2, progress: nil)[0]
    }

    /// The mean over `runs` of `value`.
    static func mean(_ runs: [ReplicationResult], _ value: (ReplicationResult) -> Int) -> Double {
        Double(runs.map(value).reduce(0, +)) / Double(runs.count)
    }

    /// The closed form, for N = 4 replicas each sent every N-th request (round robin) of a
    /// Poisson stream of λ = 10 requests/s, a breaker that opens after k = 5 failures in a row
    /// for D = 30 s, over T = 600 s of outage, refusals taking ℓ = 0.1 s and news δ = 0.05 s:
    /// - every open period ends with one probe, sent with the prober's next request (every N-th
    ///   arrival: on average N/λ·(N+1)/(2N) = 0.25 s later), so T/(D + 0.25) = 19.8 probes per prober;
    /// - own breakers: each replica sees its k failures, plus what it sent while the k-th was on
    ///   its way (λ/N·ℓ = 0.25), and probes for itself: N·(k + 0.25 + 19.8) = 100.2;
    /// - shared: the first replica to see k in a row — the others have seen k − 1 by then —
    ///   opens all of them once its news arrives, ℓ + δ after its k-th was sent, and alone
    ///   probes: N·(k − 1) + 1 + λ·(ℓ + δ) + 19.8 = 17 + 1.5 + 19.8 = 38.3.
    /// The mean of 8 replications, within 10%: the initial count is the noisy part (one
    /// replication's burst of arrivals in the 0.15 s before the news is a Poisson count of mean
    /// 1.5; the mean of 8 has a standard deviation of 0.43, 1% of the total).
    @Test(
        "four replicas with their own breakers send a down provider about N·(k + T/D) attempts; shared, N·(k−1) + 1 + T/D and what the news delay lets through"
    )
    func privateAgainstShared() throws {
        let own = try Self.runs(Self.spec(replicas: 4, scope: "replica", replications: 8))
        let shared = try Self.runs(Self.spec(replicas: 4, scope: "shared", replications: 8))
        let single = try Self.runs(Self.spec(replicas: 1, scope: "replica", replications: 8))
        let ownAttempts = Self.mean(own) { $0.upstreams[0].offered }, sharedAttempts = Self.mean(shared) { $0.upstreams[0].offered }
        let singleAttempts = Self.mean(single) { $0.upstreams[0].offered }
        #expect(abs(ownAttempts - 100.2) <= 0.1 * 100.2, "own breakers: \(ownAttempts) attempts at claude, closed form 100.2")
        #expect(abs(sharedAttempts - 38.3) <= 0.1 * 38.3, "shared: \(sharedAttempts) attempts at claude, closed form 38.3")
        #expect(abs(singleAttempts - 25.9) <= 0.1 * 25.9, "one replica: k + λ·ℓ + T/(D + 1/λ) = 5 + 1 + 19.9 = 25.9, got \(singleAttempts)")
        // Every request is answered (gpt takes them); openings count where they were seen.
        #expect(own.allSatisfy { $0.teams[0].availability == 1 } && shared.allSatisfy { $0.teams[0].availability == 1 })
        let ownOpenings = Self.mean(own) { $0.breakerOpenings[0] }, sharedOpenings = Self.mean(shared) { $0.breakerOpenings[0] }
        #expect(abs(ownOpenings - 83.2) <= 0.1 * 83.2, "N first openings + N·19.8 re-openings; got \(ownOpenings)")
        #expect(
            sharedOpenings >= 20 && sharedOpenings <= 25,
            "one replica's 19.8 re-openings, and the first openings of those that saw k before the news; got \(sharedOpenings)")
    }

    /// A team of 20 requests/s, each costing $0.0012 (100 in at $3/M, 60 out at $15/M; worst
    /// case reserved $0.00123), against a hard $1 a run: demand is $14.4 over 600 s.
    static func budgetSpec(replicas: Int, postgres: Bool) -> String {
        """
        name: shared-budget
        run: {duration_s: 600, replications: 1, seed: 5}
        providers:
          claude: {concurrency: 100, ttft_s: 0.2, output_tokens_per_s: 100, input_usd_per_mtok: 3, output_usd_per_mtok: 15}
        routes:
          chat: {chain: [claude], retry: {max_attempts: 1}}
        gateway:
          replicas: \(replicas)
        teams:
          app: {route: chat, arrivals: {poisson: {rate_per_s: 20}}, input_tokens: 100, output_tokens: 60, budget: {usd: 1, period_s: 86400}}
        deployment:
          listen: 127.0.0.1:0
          upstreams:
            claude: {base_url: "http://127.0.0.1:9001/v1", model: c}
        \(postgres ? "  state: {postgres: {url_env: BROWNOUT_DATABASE_URL}}" : "")
        """
    }

    @Test("budgets: four replicas on SQLite each spend the whole budget; on PostgreSQL they share it, never over, nearly all used")
    func sharedBudgets() throws {
        let own = try Self.run(Self.budgetSpec(replicas: 4, postgres: false))
        let shared = try Self.run(Self.budgetSpec(replicas: 4, postgres: true))
        let single = try Self.run(Self.budgetSpec(replicas: 1, postgres: true))
        let ownSpend = own.ledger.teams[0].totalUSD, sharedSpend = shared.ledger.teams[0].totalUSD
        // Each replica's own $1 (less what its last worst case could not fit): about $4.
        #expect(ownSpend > 3.9 && ownSpend <= 4 + 1e-9, "own budgets: \(ownSpend)")
        // Shared: never over $1; short of it by at most what each replica holds below one
        // request's worst case and the slices asked for and not yet spent at the end (4 × a
        // tenth at most: the demand exhausts the pool long before the end).
        #expect(sharedSpend <= 1 + 1e-9 && sharedSpend >= 0.99, "shared: \(sharedSpend)")
        #expect(single.ledger.teams[0].totalUSD <= 1 + 1e-9 && single.ledger.teams[0].totalUSD >= 0.99)
        #expect(shared.teams[0].failures["budget_exhausted", default: 0] > 0)
    }

    @Test("rate limits: four replicas each enforce a route's whole 600 a minute on SQLite, a quarter of it on PostgreSQL")
    func sharedRateLimits() throws {
        func spec(postgres: Bool) -> String {
            Self.budgetSpec(replicas: 4, postgres: postgres).replacingOccurrences(
                of: "chat: {chain: [claude], retry: {max_attempts: 1}}",
                with: "chat: {chain: [claude], retry: {max_attempts: 1}, rate_limit: {rpm: 600}}"
            ).replacingOccurrences(of: ", budget: {usd: 1, period_s: 86400}", with: "")
                .replacingOccurrences(of: "rate_per_s: 20", with: "rate_per_s: 60")
        }
        // 60 requests/s offered for 600 s against 10/s: 6,000 admitted by one gateway's limit.
        let own = try Self.run(spec(postgres: false)), shared = try Self.run(spec(postgres: true))
        let ownServed = own.teams[0].succeeded, sharedServed = shared.teams[0].succeeded
        #expect(abs(Double(ownServed) - 24_000) <= 0.02 * 24_000, "each replica its own 10/s: \(ownServed) answered, about 4 × 6,000")
        #expect(abs(Double(sharedServed) - 6_000) <= 0.02 * 6_000, "a quarter each: \(sharedServed) answered, about 6,000")
    }

    @Test("a news delay longer than the open period leaves the others to open on their own failures")
    func slowNews() throws {
        // News that takes 40 s arrives after the first replica's breaker has already probed: the
        // others have by then opened on their own failures, as if nothing were shared.
        let slow = try Self.run(Self.spec(replicas: 4, scope: "shared", delay: 40))
        let fast = try Self.run(Self.spec(replicas: 4, scope: "shared", delay: 0.05))
        #expect(slow.upstreams[0].offered > fast.upstreams[0].offered + 2)
    }

    @Test("one replica is the gateway as it was: replicas: 1 and either scope give the same run, byte for byte")
    func oneReplicaUnchanged() throws {
        let plain = Self.spec(replicas: 1, scope: "replica").replacingOccurrences(of: "  replicas: 1\n", with: "")
            .replacingOccurrences(of: "  breaker_scope: replica\n", with: "").replacingOccurrences(of: "  propagation_delay_s: 0.05\n", with: "")
        let runs = try [plain, Self.spec(replicas: 1, scope: "replica"), Self.spec(replicas: 1, scope: "shared")].map(Self.run)
        for run in runs.dropFirst() {
            #expect(run.events == runs[0].events && run.upstreams[0].offered == runs[0].upstreams[0].offered)
            #expect(run.teams[0].totalLatency.count == runs[0].teams[0].totalLatency.count)
            #expect(run.ledger == runs[0].ledger)
        }
    }

    @Test("replicas are deterministic: the same spec and seed twice give the same run")
    func deterministic() throws {
        let first = try Self.run(Self.spec(replicas: 3, scope: "shared"))
        let second = try Self.run(Self.spec(replicas: 3, scope: "shared"))
        #expect(first.events == second.events && first.ledger == second.ledger && first.breakerOpenings == second.breakerOpenings)
        #expect(first.upstreams.map(\.offered) == second.upstreams.map(\.offered))
    }

    @Test("bad replicas and scopes are located")
    func badInput() throws {
        for (text, message) in [
            (Self.spec(replicas: 0, scope: "replica"), "gateway.replicas"),
            (Self.spec(replicas: 2, scope: "everywhere"), "gateway.breaker_scope"),
            (Self.spec(replicas: 2, scope: "shared", delay: -1), "gateway.propagation_delay_s"),
        ] {
            let directory = try specDirectory(["spec.yaml": text])
            #expect {
                _ = try ExperimentSpec(decoding: try SpecDocument.load(path: directory + "/spec.yaml"))
            } throws: { error in
                "\(error)".contains(message) && "\(error)".contains("spec.yaml:")
            }
        }
    }
}
