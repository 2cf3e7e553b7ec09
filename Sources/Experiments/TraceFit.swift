import Foundation
import RoutingCore
import Stochastics

/// `brownout fit`: provider models, as the simulator reads them, from what a gateway recorded
/// (`brownout-gateway --record`): per upstream, the first-token time and the output rate
/// (fitted by maximum likelihood, with a goodness-of-fit figure), the error rate of each
/// outcome class, the typical Retry-After and the most attempts seen in flight at once.
public enum TraceFit {
    /// What one upstream did in the trace.
    public struct Observations: Sendable {
        public let name: String
        /// Attempts that ended, by outcome class (cancelled ones included).
        public var outcomes: [OutcomeClass: Int] = [:]
        /// Seconds from the send to the first output, of answered attempts.
        public var firstTokens: [Double] = []
        /// Output tokens per second after the first token, of answered attempts with output.
        public var outputRates: [Double] = []
        /// The same, of answers of ``steadyTokens`` tokens or more (a filter on the answer's
        /// length, not its rate, so it does not bias the rate): a short answer's rate is mostly
        /// the timing noise of its few frames.
        public var steadyOutputRates: [Double] = []
        public var retryAfters: [Double] = []
        public var maxInFlight = 0
        var inFlight = 0

        /// Attempts that ended other than cancelled (a cancelled hedge loser or a client that
        /// left says nothing about the upstream).
        public var decided: Int { outcomes.filter { $0.key != .cancelled }.values.reduce(0, +) }

        /// Another gateway's observations of the same upstream added (replicas' traces): the
        /// most in flight is the larger of the two (each replica's own count; their sum at one
        /// instant is not in the traces).
        public mutating func absorb(_ other: Observations) {
            for (outcome, count) in other.outcomes { outcomes[outcome, default: 0] += count }
            firstTokens += other.firstTokens
            outputRates += other.outputRates
            steadyOutputRates += other.steadyOutputRates
            retryAfters += other.retryAfters
            maxInFlight = max(maxInFlight, other.maxInFlight)
        }
    }

    /// Several traces' observations, each upstream's added up, in the order they first appear.
    public static func merged(_ traces: [[Observations]]) -> [Observations] {
        var merged: [Observations] = []
        for upstreams in traces {
            for upstream in upstreams {
                if let index = merged.firstIndex(where: { $0.name == upstream.name }) {
                    merged[index].absorb(upstream)
                } else {
                    merged.append(upstream)
                }
            }
        }
        return merged
    }

    /// What makes an answer's output rate worth fitting (``Observations/steadyOutputRates``).
    public static let steadyTokens = 20

    public struct FitError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a trace's lines (``RouterTrace/lines(_:file:)``) and gathers each upstream's
    /// observations, in the order the upstreams first appear.
    public static func observe(_ text: String, file: String) throws(FitError) -> (header: RouterTrace.Header, calls: Int, upstreams: [Observations]) {
        let header: RouterTrace.Header, lines: [RouterTrace.Line]
        do {
            (header, lines) = try RouterTrace.lines(text, file: file)
        } catch {
            throw FitError(description: error.description)
        }
        var upstreams: [Observations] = []
        var index: [String: Int] = [:]
        /// (request, attempt) → upstream, from the decisions that sent them.
        var sent: [UInt64: [Int32: Int]] = [:]
        for line in lines {
            // A withheld send never reached its upstream: it was in flight for no time.
            if line.call == .attemptWithheld, let attempt = line.attempt, let at = sent[line.requestID]?.removeValue(forKey: attempt) {
                upstreams[at].inFlight -= 1
            }
            if line.call == .attemptFinished, let attempt = line.attempt, let at = sent[line.requestID]?.removeValue(forKey: attempt),
                let outcome = line.outcome
            {
                upstreams[at].inFlight -= 1
                upstreams[at].outcomes[outcome, default: 0] += 1
                if let retryAfter = line.retryAfterSeconds, outcome == .rateLimited || outcome == .overloaded {
                    upstreams[at].retryAfters.append(retryAfter)
                }
                if outcome == .success, let firstToken = line.firstTokenNanoseconds, firstToken > 0 {
                    upstreams[at].firstTokens.append(Double(firstToken) / 1e9)
                    let latency = line.latencyNanoseconds ?? 0
                    let output = line.outputTokens ?? 0
                    if output > 1 && latency > firstToken {
                        let seconds = Double(latency - firstToken) / 1e9
                        upstreams[at].outputRates.append(Double(output) / seconds)
                        if output >= steadyTokens { upstreams[at].steadyOutputRates.append(Double(output) / seconds) }
                    }
                }
            }
            if let decision = line.decision, decision.action == .send || decision.action == .hedge, let target = decision.target {
                let at =
                    index[target]
                    ?? {
                        upstreams.append(Observations(name: target))
                        index[target] = upstreams.count - 1
                        return upstreams.count - 1
                    }()
                sent[line.requestID, default: [:]][decision.attempt] = at
                upstreams[at].inFlight += 1
                upstreams[at].maxInFlight = max(upstreams[at].maxInFlight, upstreams[at].inFlight)
            }
        }
        return (header, lines.count, upstreams)
    }

    /// The catalog file: one `providers` entry per upstream that answered at least
    /// `minimumAnswers` times, each number with a comment saying what it came from. With the
    /// routing config the gateway ran (`config`), its pools are left out (a pool's model is
    /// its replicas, not a provider's) and its prices are copied.
    /// Whether an upstream (not a local pool) answered often enough to be fitted.
    public static func fits(_ upstream: Observations, minimumAnswers: Int) -> Bool {
        upstream.firstTokens.count >= minimumAnswers
    }

    /// `states`: by upstream, a `states:` block of its own to write instead of the healthy
    /// state fitted over the whole trace (`brownout fit --timeline`).
    public static func catalog(
        _ upstreams: [Observations], header: RouterTrace.Header, calls: Int, source: String, config: RouterConfig? = nil,
        minimumAnswers: Int = 20, states: [String: String] = [:]
    ) -> String {
        func number(_ value: Double) -> String {
            let rounded = (value * 1e6).rounded() / 1e6
            return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int64(rounded)) : String(rounded)
        }
        var text = """
            # Provider models fitted by `brownout fit` from \(source)
            # (\(calls) router calls; gateway seed \(header.seed), routing config \(header.configFingerprint)).
            # Each number says what it came from. A trace holds no queue sizes or degraded states,
            # and no prices: \(config == nil ? "the prices below are 0 until set from the provider's price list" : "the prices are the spec's").
            providers:

            """
        var skipped: [String] = []
        var pools: [String] = []
        for upstream in upstreams {
            let target = config?.targets.first { $0.name == upstream.name }
            if target?.kind == .local {
                pools.append(upstream.name)
                continue
            }
            guard fits(upstream, minimumAnswers: minimumAnswers) else {
                skipped.append("\(upstream.name) (\(upstream.firstTokens.count) answers)")
                continue
            }
            text += "  \(upstream.name):\n"
            text +=
                "    concurrency: \(max(1, upstream.maxInFlight))"
                + "    # the most attempts in flight at once in the trace: a lower bound on the limit\n"
            if let fitted = try? DistributionFit.best(of: [.lognormal, .gamma, .weibull], to: upstream.firstTokens) {
                let others = fitted.all.dropFirst().map { "\($0.family.rawValue) \(String(format: "%.3f", $0.ksDistance))" }.joined(separator: ", ")
                text +=
                    "    ttft_s: {\(fitted.best.family.rawValue): {"
                    + fitted.best.parameters.map { "\($0.name): \(number($0.value))" }.joined(separator: ", ") + "}}"
                text +=
                    "    # \(upstream.firstTokens.count) streamed first tokens (send → first token); maximum likelihood, KS D \(String(format: "%.3f", fitted.best.ksDistance))"
                text += others.isEmpty ? "\n" : " (\(others))\n"
            }
            // The answers of 20 tokens or more when there are enough of them, else every
            // answer's; a normal by the median and the interquartile range (IQR / 1.349 is a
            // normal's standard deviation), which a few answers' bursts do not move: a first
            // token held back by a stall lets the tokens due behind it out at once, an end
            // right after the first token, a rate in the thousands.
            let steady = upstream.steadyOutputRates.count >= minimumAnswers
            let rates = (steady ? upstream.steadyOutputRates : upstream.outputRates).sorted()
            if rates.count >= 2 {
                func quantile(_ q: Double) -> Double { rates[min(rates.count - 1, Int(q * Double(rates.count - 1)))] }
                let median = quantile(0.5), spread = max(0, (quantile(0.75) - quantile(0.25)) / 1.349)
                text += "    output_tokens_per_s: {normal: {mean: \(number(median)), sd: \(number(spread)), lower: 1}}"
                text +=
                    "    # \(rates.count) answers\(steady ? " of \(steadyTokens) tokens or more" : ""): output tokens / (end − first token); their median and interquartile range / 1.349\n"
            } else {
                text +=
                    "    output_tokens_per_s: 1000000    # fewer than 2 answers with more than one token after the first: streaming rate not observed\n"
            }
            if !upstream.retryAfters.isEmpty {
                let sorted = upstream.retryAfters.sorted()
                text +=
                    "    typical_retry_after_s: \(number(sorted[sorted.count / 2]))    # the median of \(sorted.count) Retry-After values (429, 529)\n"
            }
            if let target {
                text +=
                    "    input_usd_per_mtok: \(number(target.inputPricePerMillion))    # from the spec\n    output_usd_per_mtok: \(number(target.outputPricePerMillion))\n"
            } else {
                text += "    input_usd_per_mtok: 0    # not in a trace\n    output_usd_per_mtok: 0\n"
            }
            if let block = states[upstream.name] {
                text += block
                continue
            }
            let errors = OutcomeClass.failures.compactMap { outcome -> String? in
                guard outcome != .cancelled, let count = upstream.outcomes[outcome], count > 0 else { return nil }
                return "\(outcome.rawValue): \(number(Double(count) / Double(upstream.decided)))"
            }
            text += "    states:\n      healthy:\n        errors: {\(errors.joined(separator: ", "))}"
            text += "    # of \(upstream.decided) attempts that ended (cancelled ones not counted)\n"
        }
        if !skipped.isEmpty { text += "# Not fitted, too few answers: \(skipped.joined(separator: ", ")).\n" }
        if !pools.isEmpty { text += "# Local pools, not fitted as providers: \(pools.joined(separator: ", ")).\n" }
        return text
    }
}
