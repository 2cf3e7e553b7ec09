import Foundation

/// Everything a gateway's router saw, call by call (`brownout-gateway --record`), so that the
/// simulator's gateway can be driven through the same events and shown to decide the same
/// (`brownout replay`, `docs/parity.md`). A trace file is JSON lines: a ``Header`` first, then
/// one ``Entry`` per router call and per event of the request's conduct that calls no router
/// (a first byte reaching the client, a client going away), in the order they happened.
public enum RouterTrace {
    /// The trace's file in a `--record` directory.
    public static let fileName = "trace.jsonl"
    /// The spec the gateway ran (its overrides applied), beside its trace.
    public static let specFileName = "spec.yaml"

    /// The first line: what a replay must reproduce besides the calls.
    public struct Header: Codable, Sendable, Equatable {
        public var format: Int
        /// The seed of the router's generator (SplitMix64).
        public var seed: UInt64
        /// ``RouterConfig/fingerprint`` of the config the gateway ran.
        public var configFingerprint: String
        /// The Unix time, in nanoseconds, at router time 0 (budget periods follow it).
        public var unixNanosecondsAtZero: Int64
        /// The router's ``Router/replicaRank`` when it shares breakers with other replicas
        /// (nil otherwise, and not written).
        public var replicaRank: UInt64?
        /// Whether the router's budgets are shared with other replicas (``Router/leaseBudgets()``;
        /// nil: not, and not written).
        public var budgetLeases: Bool?

        public static let currentFormat = 2

        public init(
            seed: UInt64, configFingerprint: String, unixNanosecondsAtZero: Int64, replicaRank: UInt64? = nil, budgetLeases: Bool? = nil
        ) {
            self.budgetLeases = budgetLeases
            self.format = Self.currentFormat
            self.seed = seed
            self.configFingerprint = configFingerprint
            self.unixNanosecondsAtZero = unixNanosecondsAtZero
            self.replicaRank = replicaRank
        }

        enum CodingKeys: String, CodingKey {
            case format = "trace_format", seed, configFingerprint = "config_fingerprint", unixNanosecondsAtZero = "unix_ns_at_zero"
            case replicaRank = "replica_rank", budgetLeases = "budget_leases"
        }

        public func jsonLine() -> String {
            #"{"# + (budgetLeases == true ? #""budget_leases":true,"# : "") + #""config_fingerprint":"# + JSONText.quoted(configFingerprint)
                + (replicaRank.map { #","replica_rank":"# + String($0) } ?? "") + #","seed":"# + String(seed) + #","trace_format":"# + String(format)
                + #","unix_ns_at_zero":"# + String(unixNanosecondsAtZero) + "}"
        }
    }

    /// A router call and its arguments.
    public enum Call: Sendable, Equatable {
        case begin(RoutingRequest)
        case attemptFinished(requestID: UInt64, attempt: Int32, outcome: AttemptOutcome)
        case resume(requestID: UInt64)
        case hedgeDue(requestID: UInt64)
        /// A send the conduct withheld (the client already had another attempt's bytes, or was
        /// gone): the router was told it ended `cancelled` at once. The conduct makes this call
        /// itself, so a replay does not deliver it; it compares its decision.
        case attemptWithheld(requestID: UInt64, attempt: Int32)
        /// The first byte of `attempt`'s answer reached the client (no router call).
        case firstByte(requestID: UInt64, attempt: Int32)
        /// The client went away (no router call).
        case clientGone(requestID: UInt64)
        /// Another replica's breaker changed (breakers shared): ``Router/breakerChangedElsewhere(_:)``,
        /// which decides nothing. Of no request (its id is 0).
        case breakerShared(BreakerNotice)
        /// A slice of a shared budget granted or given back: ``Router/budgetLeaseChanged(_:)``,
        /// which decides nothing. Of no request (its id is 0).
        case budgetLease(BudgetLease)
        /// This replica's share of the rate limits changed (replicas came or went):
        /// ``Router/setRateShare(_:)``, which decides nothing. Of no request (its id is 0).
        case rateShare(Double)

        public var requestID: UInt64 {
            switch self {
            case .begin(let request): request.id
            case .attemptFinished(let id, _, _), .resume(let id), .hedgeDue(let id), .attemptWithheld(let id, _), .firstByte(let id, _),
                .clientGone(let id):
                id
            case .breakerShared, .budgetLease, .rateShare: 0
            }
        }

        /// Whether the call asks the router for a decision.
        public var decides: Bool {
            switch self {
            case .firstByte, .clientGone, .breakerShared, .budgetLease, .rateShare: false
            default: true
            }
        }
    }

    /// One call: the router's clock when it was made, the call, and the decision it returned
    /// (nil for an event that asks for none).
    public struct Entry: Sendable, Equatable {
        public var timeNanoseconds: Int64
        public var call: Call
        public var decision: DecisionRecord?
        /// For a streamed attempt that produced output: from its send to its first token, as
        /// the gateway measured it. Not something the router is told (so a replay ignores it);
        /// `brownout fit` reads it.
        public var firstTokenNanoseconds: Int64?

        public init(timeNanoseconds: Int64, call: Call, decision: DecisionRecord?, firstTokenNanoseconds: Int64? = nil) {
            self.timeNanoseconds = timeNanoseconds
            self.call = call
            self.decision = decision
            self.firstTokenNanoseconds = firstTokenNanoseconds
        }

        /// The entry as one JSON line, names resolved through `config`.
        public func jsonLine(config: RouterConfig) -> String {
            var line = #"{"t":"# + String(timeNanoseconds)
            switch call {
            case .begin(let request):
                line +=
                    #","call":""# + CallName.begin.rawValue + #"","request_id":"# + String(request.id) + #","route":"#
                    + JSONText.quoted(config.name(of: request.route))
                line +=
                    #","team":"# + JSONText.quotedOrNull(request.team.map(config.name(of:))) + #","key":"#
                    + JSONText.quotedOrNull(request.key.map(config.name(of:)))
                line += #","input_tokens":"# + String(request.inputTokens) + #","max_output_tokens":"# + String(request.maxOutputTokens)
                line += #","stream":"# + (request.streamed ? "true" : "false")
                // Written only for a Messages client, so that every other trace reads as before.
                if request.apiProtocol != .openai { line += #","api":"# + JSONText.quoted(request.apiProtocol.rawValue) }
            case .attemptFinished(let id, let attempt, let outcome):
                line += #","call":""# + CallName.attemptFinished.rawValue + #"","request_id":"# + String(id) + #","attempt":"# + String(attempt)
                line += #","outcome":"# + JSONText.quoted(outcome.outcome.rawValue) + #","latency_ns":"# + String(outcome.latencyNanoseconds)
                line += #","input_tokens":"# + String(outcome.inputTokens) + #","output_tokens":"# + String(outcome.outputTokens)
                line += #","gpu_seconds":"# + String(describing: outcome.gpuSeconds)
                if let retryAfter = outcome.retryAfterSeconds { line += #","retry_after_s":"# + String(describing: retryAfter) }
                if outcome.contextWindowExceeded { line += #","context_window_exceeded":true"# }
                if let firstTokenNanoseconds { line += #","first_token_ns":"# + String(firstTokenNanoseconds) }
            case .resume(let id):
                line += #","call":""# + CallName.resume.rawValue + #"","request_id":"# + String(id)
            case .hedgeDue(let id):
                line += #","call":""# + CallName.hedgeDue.rawValue + #"","request_id":"# + String(id)
            case .attemptWithheld(let id, let attempt):
                line += #","call":""# + CallName.attemptWithheld.rawValue + #"","request_id":"# + String(id) + #","attempt":"# + String(attempt)
            case .firstByte(let id, let attempt):
                line += #","call":""# + CallName.firstByte.rawValue + #"","request_id":"# + String(id) + #","attempt":"# + String(attempt)
            case .clientGone(let id):
                line += #","call":""# + CallName.clientGone.rawValue + #"","request_id":"# + String(id)
            case .breakerShared(let notice):
                line +=
                    #","call":""# + CallName.breakerShared.rawValue + #"","request_id":0,"target":"#
                    + JSONText.quoted(config.name(of: notice.target))
                switch notice {
                case .opened(_, let nanoseconds, let rank):
                    line += #","state":"open","open_ns":"# + String(nanoseconds) + #","by":"# + String(rank)
                case .closed: line += #","state":"closed""#
                }
            case .budgetLease(let lease):
                line += #","call":""# + CallName.budgetLease.rawValue + #"","request_id":0"#
                switch lease.scope {
                case .team(let name): line += #","team":"# + JSONText.quoted(name)
                case .key(let name): line += #","key":"# + JSONText.quoted(name)
                }
                line += #","period":"# + String(lease.period) + #","usd":"# + String(describing: lease.usd)
                if lease.local { line += #","local":true"# }
            case .rateShare(let share):
                line += #","call":""# + CallName.rateShare.rawValue + #"","request_id":0,"share":"# + String(describing: share)
            }
            guard let decision else { return line + "}" }
            return line + #","decision":"# + decision.jsonLine() + "}"
        }
    }

    /// A trace that cannot be read, with the line where it stops making sense.
    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The router call a line records, as a trace names it.
    public enum CallName: String, Sendable, CaseIterable, Decodable {
        case begin
        case attemptFinished = "attempt_finished"
        case resume
        case hedgeDue = "hedge_due"
        case attemptWithheld = "attempt_withheld"
        case firstByte = "first_byte"
        case clientGone = "client_gone"
        case breakerShared = "breaker_shared"
        case budgetLease = "budget_lease"
        case rateShare = "rate_share"

        public init(from decoder: any Decoder) throws {
            let name = try decoder.singleValueContainer().decode(String.self)
            guard let call = CallName(rawValue: name) else {
                throw ReadError(description: "unknown call '\(name)'; calls are " + CallName.allCases.map(\.rawValue).joined(separator: ", "))
            }
            self = call
        }
    }

    /// Reads a trace file's lines (`text`), names resolved through `config`.
    public static func read(_ text: String, file: String, config: RouterConfig) throws(ReadError) -> (header: Header, entries: [Entry]) {
        let (header, lines) = try Self.lines(text, file: file)
        var entries: [Entry] = []
        entries.reserveCapacity(lines.count)
        for line in lines {
            do {
                let call = try line.call(config: config)
                if call.decides && line.decision == nil { throw ReadError(description: "a '\(line.call.rawValue)' entry without 'decision'") }
                entries.append(Entry(timeNanoseconds: line.t, call: call, decision: line.decision, firstTokenNanoseconds: line.firstTokenNanoseconds))
            } catch let error as RoutingNameError {
                throw ReadError(description: "\(file):\(line.number): \(error.description)")
            } catch let error as ReadError {
                throw ReadError(description: "\(file):\(line.number): \(error.description)")
            } catch {
                throw ReadError(description: "\(file):\(line.number): not a trace entry: \(error)")
            }
        }
        return (header, entries)
    }

    /// Reads a trace file's lines (`text`) as written, names unresolved: what reading needs no
    /// routing config for (`brownout fit`). The header must be of the format this build writes.
    public static func lines(_ text: String, file: String) throws(ReadError) -> (header: Header, lines: [Line]) {
        let texts = text.split(separator: "\n", omittingEmptySubsequences: false)
        let decoder = JSONDecoder()
        guard let first = texts.first, let header = try? decoder.decode(Header.self, from: Data(first.utf8)) else {
            if let first = texts.first, (try? decoder.decode(DecisionRecord.self, from: Data(first.utf8))) != nil {
                throw ReadError(
                    description:
                        "\(file):1: a decision log, not a router trace: its records name no team, tokens or calendar time, so neither a chargeback nor a window can be read from it; record the gateway's trace (brownout-gateway --record DIR), or export its spend ledger (see the README's \"After the incident\")"
                )
            }
            throw ReadError(description: "\(file):1: not a router trace (the first line must be its header)")
        }
        guard header.format == Header.currentFormat else {
            throw ReadError(description: "\(file):1: trace format \(header.format); this brownout reads format \(Header.currentFormat)")
        }
        var lines: [Line] = []
        lines.reserveCapacity(texts.count)
        for (offset, text) in texts.enumerated().dropFirst() where !text.isEmpty {
            do {
                var line = try decoder.decode(Line.self, from: Data(text.utf8))
                line.number = offset + 1
                lines.append(line)
            } catch let error as ReadError {
                throw ReadError(description: "\(file):\(offset + 1): \(error.description)")
            } catch {
                throw ReadError(description: "\(file):\(offset + 1): not a trace entry: \(error)")
            }
        }
        return (header, lines)
    }

    /// An entry line as written, before its names are resolved.
    public struct Line: Decodable, Sendable {
        /// The line's number in its file (1 is the header).
        public internal(set) var number = 0
        public let t: Int64
        public let call: CallName
        public let requestID: UInt64
        public let route: String?
        public let team: String?
        public let key: String?
        public let inputTokens: Int?
        public let maxOutputTokens: Int?
        public let stream: Bool?
        /// The client's API, when it is not `openai`.
        public let api: String?
        public let attempt: Int32?
        public let outcome: OutcomeClass?
        public let latencyNanoseconds: Int64?
        public let outputTokens: Int?
        public let gpuSeconds: Double?
        public let retryAfterSeconds: Double?
        public let contextWindowExceeded: Bool?
        public let firstTokenNanoseconds: Int64?
        /// A shared breaker's change: its target, `open` or `closed`, and how long it opened for.
        public let target: String?
        public let state: String?
        public let openNanoseconds: Int64?
        /// The rank of the replica that opened it.
        public let by: UInt64?
        /// A budget lease: its period, amount, and whether it is the replica's own allowance.
        public let period: Int64?
        public let usd: Double?
        public let local: Bool?
        /// A replica's share of the rate limits.
        public let share: Double?
        /// Nil on the lines of events that ask for no decision.
        public let decision: DecisionRecord?

        enum CodingKeys: String, CodingKey {
            case t, call, requestID = "request_id", route, team, key, inputTokens = "input_tokens", maxOutputTokens = "max_output_tokens", stream, api
            case attempt, outcome, latencyNanoseconds = "latency_ns", outputTokens = "output_tokens", gpuSeconds = "gpu_seconds"
            case retryAfterSeconds = "retry_after_s", contextWindowExceeded = "context_window_exceeded", firstTokenNanoseconds = "first_token_ns",
                decision
            case target, state, openNanoseconds = "open_ns", by, period, usd, local, share
        }

        func call(config: RouterConfig) throws -> Call {
            func required<T>(_ value: T?, _ name: String) throws(ReadError) -> T {
                guard let value else { throw ReadError(description: "a '\(call.rawValue)' entry without '\(name)'") }
                return value
            }
            func apiProtocol() throws(ReadError) -> APIProtocol {
                guard let api else { return .openai }
                guard let known = APIProtocol(rawValue: api) else {
                    throw ReadError(description: "api must be one of \(APIProtocol.allCases.map(\.rawValue).joined(separator: ", ")), got '\(api)'")
                }
                return known
            }
            switch call {
            case .begin:
                return .begin(
                    RoutingRequest(
                        id: requestID, route: try config.route(named: try required(route, "route")),
                        team: try team.map { (name) throws(RoutingNameError) in try config.team(named: name) },
                        key: try key.map { (name) throws(RoutingNameError) in try config.key(named: name) },
                        inputTokens: try required(inputTokens, "input_tokens"), maxOutputTokens: try required(maxOutputTokens, "max_output_tokens"),
                        streamed: try required(stream, "stream"), apiProtocol: try apiProtocol()))
            case .attemptFinished:
                return .attemptFinished(
                    requestID: requestID, attempt: try required(attempt, "attempt"),
                    outcome: AttemptOutcome(
                        outcome: try required(outcome, "outcome"), latencyNanoseconds: try required(latencyNanoseconds, "latency_ns"),
                        inputTokens: inputTokens ?? 0, outputTokens: outputTokens ?? 0, gpuSeconds: gpuSeconds ?? 0,
                        retryAfterSeconds: retryAfterSeconds, contextWindowExceeded: contextWindowExceeded ?? false))
            case .resume: return .resume(requestID: requestID)
            case .hedgeDue: return .hedgeDue(requestID: requestID)
            case .attemptWithheld: return .attemptWithheld(requestID: requestID, attempt: try required(attempt, "attempt"))
            case .firstByte: return .firstByte(requestID: requestID, attempt: try required(attempt, "attempt"))
            case .clientGone: return .clientGone(requestID: requestID)
            case .breakerShared:
                let target = try config.target(named: try required(target, "target"))
                switch try required(state, "state") {
                case "open":
                    return .breakerShared(.opened(target, forNanoseconds: try required(openNanoseconds, "open_ns"), by: try required(by, "by")))
                case "closed": return .breakerShared(.closed(target))
                case let other: throw ReadError(description: "a breaker's state is open or closed, got '\(other)'")
                }
            case .budgetLease:
                // Budget scopes are names as written (a lease for a budget the config lacks is ignored by the router).
                let scope: BudgetScope
                if let team { scope = .team(team) } else { scope = .key(try required(key, "team")) }
                return .budgetLease(
                    BudgetLease(scope: scope, period: try required(period, "period"), usd: try required(usd, "usd"), local: local ?? false))
            case .rateShare:
                let share = try required(share, "share")
                guard share > 0 && share <= 1 else { throw ReadError(description: "a rate share is in (0, 1], got \(share)") }
                return .rateShare(share)
            }
        }
    }
}

extension RouterConfig {
    /// A fingerprint of the config (FNV-1a, 64 bits, over a canonical rendering of every
    /// field, sets sorted): a replay checks it ran the config the trace was recorded with.
    public var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Self.canonical(self).utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    private static func canonical(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .set, .dictionary:
            return "{" + mirror.children.map { canonical($0.value) }.sorted().joined(separator: ",") + "}"
        case .optional:
            return mirror.children.first.map { canonical($0.value) } ?? "nil"
        case .struct, .class, .enum, .tuple, .collection:
            guard !mirror.children.isEmpty else { return "\(mirror.subjectType).\(value)" }
            return "\(mirror.subjectType)(" + mirror.children.map { ($0.label ?? "") + ":" + canonical($0.value) }.joined(separator: ",") + ")"
        default:
            return String(describing: value)
        }
    }
}
