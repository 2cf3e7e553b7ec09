import RoutingCore

/// One request's life at a gateway, between RoutingCore's decisions: what is sent, when the
/// hedge timer runs, which attempt the client gets, what is cancelled, when the request ends
/// for the client. Both gateways drive it — the server with real I/O, the simulator with
/// simulated events — and do only what its ``ConductEffects`` say. It decides nothing the
/// router decides, reads no clock and draws no randomness: the same events in the same order
/// give the same effects and the same router calls.
///
/// The rules (`docs/parity.md`):
/// 1. The first attempt whose first byte reaches the client takes the client (it commits);
///    every other attempt still out is cancelled then, and the hedge timer is disarmed.
/// 2. Nothing is sent after the commit or after the client went away: a send the router
///    decides then is withheld, and the router learns it ended `cancelled` at once.
/// 3. A hedge timer that fires disarmed (after the commit, or after the request ended) is
///    ignored: the router is not called.
/// 4. An attempt's limit (its total, or the idle gap between two frames) that passes after its
///    first byte reached the client cuts the stream: the attempt failed after its first byte
///    (which nothing retries), not a timeout.
/// 5. An attempt the conduct cancelled is reported `cancelled`, whatever it ended with (the
///    cancel and its ending crossed; nothing of it reaches the client); each attempt is reported to the router once, and an ending that comes
///    after (a late answer to an attempt that timed out) is ignored.
/// 6. The client's answer ends with the router's complete, fail or reject decision; attempts
///    still out then (cancelled) report back before the conduct is forgotten.
/// 7. A whole answer (the client did not ask for a stream) reaches the client when it ends:
///    its first byte is its end. Its attempt has one limit, the earlier of the route's
///    first-token and attempt limits, and an answer whose body broke before its end broke
///    before anything reached the client: a connection error, which the router may retry.
/// 8. A stream the route holds (``RoutingCore/StreamCommit``) reaches the client when the hold
///    releases: its "first byte" is that moment, and a break before it, like a whole answer's,
///    is a connection error the router may retry.
public struct RequestConduct: Sendable {
    /// Where the request is, as a reader would list it.
    public enum Phase: Sendable, Equatable {
        /// Attempts are out and no byte has reached the client.
        case attempting
        /// A backoff runs before the router picks the retry's target.
        case backingOff
        /// This attempt's output is reaching the client; nothing more is sent.
        case streaming(attempt: Int32)
        /// Over for the client; cancelled attempts still out report back.
        case settling
        /// Over, nothing out.
        case done
    }

    /// The router's memory of the request.
    public private(set) var routing: RequestState
    public private(set) var phase: Phase = .attempting
    /// The attempt whose first byte reached the client.
    public private(set) var committedAttempt: Int32?
    /// When that byte reached it (the driver's clock; 0: none yet).
    public private(set) var firstByteAt: Int64 = 0
    public private(set) var hedged = false
    public private(set) var hedgeTimerArmed = false
    public private(set) var clientGone = false
    /// Attempts sent and not yet reported to the router, and those of them being cancelled,
    /// one bit per attempt number.
    private var outstanding: UInt64 = 0
    private var cancelling: UInt64 = 0

    /// A request that has not begun: ``begin(_:into:)`` asks the router for its first decision.
    public init(unbegun request: RoutingRequest) {
        self.routing = RequestState(unbegun: request)
    }

    public var requestID: UInt64 { routing.request.id }

    /// Whether `attempt` was sent and has not been reported yet.
    public func isOutstanding(_ attempt: Int32) -> Bool { outstanding & Self.bit(attempt) != 0 }

    /// The attempts sent and not reported yet, with their targets, in attempt order (whose
    /// connections close if the gateway's process dies).
    public var outstandingAttempts: [(attempt: Int32, target: TargetID)] {
        var attempts: [(attempt: Int32, target: TargetID)] = []
        var remaining = outstanding
        while remaining != 0 {
            let attempt = Int32(remaining.trailingZeroBitCount)
            remaining &= remaining - 1
            if let target = routing.attemptTarget(attempt) { attempts.append((attempt, target)) }
        }
        return attempts
    }

    /// Whether the request is over for its client.
    public var isOver: Bool { phase == .settling || phase == .done }

    private static func bit(_ attempt: Int32) -> UInt64 { 1 << UInt64(min(max(attempt, 0), 63)) }

    // MARK: Events
    //
    // Each event writes what the driver must do into `effects`, which the driver passes in
    // empty (the simulator keeps one per event rather than copying one back from each call);
    // the forms that return their effects are below.

    /// The request arrives: the router's first decision (``ConductRouter/begin(_:)``, which
    /// begins ``routing`` in place), carried out.
    public mutating func begin<R: ConductRouter & ~Copyable>(_ router: inout R, into effects: inout ConductEffects) {
        let first = router.begin(&routing)
        act(on: first, &router, &effects)
    }

    /// An attempt ended: it answered, failed, or hit a limit the driver enforces (reported as
    /// `timeout`). `firstTokenNanoseconds` goes to the trace only.
    public mutating func attemptEnded<R: ConductRouter & ~Copyable>(
        _ attempt: Int32, _ outcome: AttemptOutcome, firstTokenNanoseconds: Int64? = nil,
        _ router: inout R, into effects: inout ConductEffects
    ) {
        let bit = Self.bit(attempt)
        guard outstanding & bit != 0 else { return }
        outstanding &= ~bit
        var outcome = outcome
        if cancelling & bit != 0 {
            cancelling &= ~bit
            outcome.outcome = .cancelled
        } else if outcome.outcome == .timeout && committedAttempt == attempt {
            outcome.outcome = .failedAfterFirstByte
        } else if outcome.outcome == .failedAfterFirstByte && committedAttempt != attempt {
            // Nothing of it reached the client (a whole answer, or a stream still held by the
            // route's commit policy): the break is a connection error the router may retry.
            outcome.outcome = .connectionError
        }
        let decision = router.attemptFinished(&routing, attempt: attempt, outcome, firstTokenNanoseconds: firstTokenNanoseconds)
        act(on: decision, &router, &effects)
    }

    /// The first byte of `attempt`'s answer reached the client at `time` (or would: the
    /// attempt produced output). The first such attempt takes the client.
    public mutating func firstByte<R: ConductRouter & ~Copyable>(
        of attempt: Int32, at time: Int64, _ router: inout R, into effects: inout ConductEffects
    ) {
        let bit = Self.bit(attempt)
        guard outstanding & bit != 0, cancelling & bit == 0, !clientGone, !isOver else { return }
        if let committedAttempt {
            if committedAttempt != attempt { cancel(attempt, loser: true, &effects) }
            return
        }
        committedAttempt = attempt
        firstByteAt = time
        phase = .streaming(attempt: attempt)
        router.firstByteReachedClient(requestID: requestID, attempt: attempt)
        effects.commit = attempt
        cancelAll(except: attempt, losers: true, &effects)
        disarmHedgeTimer(&effects)
    }

    /// The hedge timer the conduct armed has fired.
    public mutating func hedgeTimerFired<R: ConductRouter & ~Copyable>(_ router: inout R, into effects: inout ConductEffects) {
        guard hedgeTimerArmed else { return }
        hedgeTimerArmed = false
        act(on: router.hedgeDue(&routing), &router, &effects)
    }

    /// The backoff the conduct asked for has run out.
    public mutating func backoffEnded<R: ConductRouter & ~Copyable>(_ router: inout R, into effects: inout ConductEffects) {
        guard phase == .backingOff else { return }
        phase = .attempting
        act(on: router.resume(&routing), &router, &effects)
    }

    /// The client went away: everything out is cancelled and nothing more is sent.
    public mutating func clientWentAway<R: ConductRouter & ~Copyable>(_ router: inout R, into effects: inout ConductEffects) {
        guard !clientGone, !isOver else { return }
        clientGone = true
        router.clientWentAway(requestID: requestID)
        cancelAll(except: nil, losers: false, &effects)
        disarmHedgeTimer(&effects)
    }

    // MARK: Events, their effects returned

    public mutating func begin<R: ConductRouter & ~Copyable>(_ router: inout R) -> ConductEffects {
        var effects = ConductEffects()
        begin(&router, into: &effects)
        return effects
    }

    public mutating func attemptEnded<R: ConductRouter & ~Copyable>(
        _ attempt: Int32, _ outcome: AttemptOutcome, firstTokenNanoseconds: Int64? = nil, _ router: inout R
    ) -> ConductEffects {
        var effects = ConductEffects()
        attemptEnded(attempt, outcome, firstTokenNanoseconds: firstTokenNanoseconds, &router, into: &effects)
        return effects
    }

    public mutating func firstByte<R: ConductRouter & ~Copyable>(of attempt: Int32, at time: Int64, _ router: inout R) -> ConductEffects {
        var effects = ConductEffects()
        firstByte(of: attempt, at: time, &router, into: &effects)
        return effects
    }

    public mutating func hedgeTimerFired<R: ConductRouter & ~Copyable>(_ router: inout R) -> ConductEffects {
        var effects = ConductEffects()
        hedgeTimerFired(&router, into: &effects)
        return effects
    }

    public mutating func backoffEnded<R: ConductRouter & ~Copyable>(_ router: inout R) -> ConductEffects {
        var effects = ConductEffects()
        backoffEnded(&router, into: &effects)
        return effects
    }

    public mutating func clientWentAway<R: ConductRouter & ~Copyable>(_ router: inout R) -> ConductEffects {
        var effects = ConductEffects()
        clientWentAway(&router, into: &effects)
        return effects
    }

    // MARK: Carrying out decisions

    private mutating func act<R: ConductRouter & ~Copyable>(on first: Decision, _ router: inout R, _ effects: inout ConductEffects) {
        var decision = first
        while true {
            switch decision.action {
            case .send, .hedge:
                let attempt = decision.attempt
                guard committedAttempt == nil, !clientGone, let target = decision.target else {
                    decision = router.attemptWithheld(&routing, attempt: attempt)
                    continue
                }
                let isHedge = decision.action == .hedge
                outstanding |= Self.bit(attempt)
                if isHedge { hedged = true }
                let hedgeAfter = decision.hedgeAfterNanoseconds
                effects.send = order(
                    attempt, target: target, isHedge: isHedge, decision: decision,
                    racing: isHedge || hedgeAfter != nil || outstanding != Self.bit(attempt))
                if let hedgeAfter {
                    hedgeTimerArmed = true
                    effects.armHedgeTimerNanoseconds = hedgeAfter
                }
                if phase == .backingOff { phase = .attempting }
                return
            case .wait:
                phase = .backingOff
                effects.backoffNanoseconds = decision.delayNanoseconds
                return
            case .none:
                if phase == .settling && outstanding == 0 {
                    phase = .done
                    effects.forget = true
                }
                return
            case .complete:
                if let loser = decision.cancelAttempt { cancel(loser, loser: false, &effects) }
                end(decision, winner: decision.attempt, &effects)
                return
            case .fail, .reject:
                end(decision, winner: nil, &effects)
                return
            }
        }
    }

    /// The attempt to send and the limits its driver enforces (rule 7 for a whole answer).
    private func order(_ attempt: Int32, target: TargetID, isHedge: Bool, decision: Decision, racing: Bool) -> AttemptOrder {
        let firstToken = decision.firstTokenTimeoutNanoseconds, total = decision.attemptTimeoutNanoseconds
        guard routing.request.streamed else {
            let earlier = firstToken.map { min($0, total ?? $0) } ?? total
            return AttemptOrder(
                attempt: attempt, target: target, route: decision.route, isHedge: isHedge, firstTokenLimitNanoseconds: nil,
                attemptLimitNanoseconds: earlier,
                idleLimitNanoseconds: nil, watchesFirstByte: false)
        }
        return AttemptOrder(
            attempt: attempt, target: target, route: decision.route, isHedge: isHedge, firstTokenLimitNanoseconds: firstToken,
            attemptLimitNanoseconds: total,
            idleLimitNanoseconds: decision.idleTimeoutNanoseconds, watchesFirstByte: racing)
    }

    private mutating func end(_ decision: Decision, winner: Int32?, _ effects: inout ConductEffects) {
        disarmHedgeTimer(&effects)
        effects.endsRequest = true
        effects.ending = RequestEnding(
            decision: decision, team: routing.request.team, winner: winner, winnerTarget: winner == nil ? nil : decision.target,
            attempts: routing.attemptsSent, hedged: hedged, firstByteAt: firstByteAt,
            afterFirstByte: firstByteAt > 0, clientGone: clientGone)
        if outstanding == 0 {
            phase = .done
            effects.forget = true
        } else {
            phase = .settling
        }
    }

    /// `loser`: cancelled because another attempt took the client, so the router counts its
    /// cost as waste and learns nothing of its target from it (a completion's loser the router
    /// marked itself; attempts cancelled for a departed client are not losers: the router
    /// must still see them end to end the request).
    private mutating func cancel(_ attempt: Int32, loser: Bool, _ effects: inout ConductEffects) {
        let bit = Self.bit(attempt)
        guard outstanding & bit != 0, cancelling & bit == 0, let target = routing.attemptTarget(attempt) else { return }
        cancelling |= bit
        if loser { routing.markCancelled(attempt) }
        effects.cancellations.append(attempt: attempt, target: target)
    }

    private mutating func cancelAll(except kept: Int32?, losers: Bool, _ effects: inout ConductEffects) {
        var remaining = outstanding
        while remaining != 0 {
            let attempt = Int32(remaining.trailingZeroBitCount)
            remaining &= remaining - 1
            if attempt != kept { cancel(attempt, loser: losers, &effects) }
        }
    }

    private mutating func disarmHedgeTimer(_ effects: inout ConductEffects) {
        if hedgeTimerArmed {
            hedgeTimerArmed = false
            effects.disarmHedgeTimer = true
        }
    }
}
