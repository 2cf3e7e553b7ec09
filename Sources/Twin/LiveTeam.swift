import AsyncHTTPClient
import Foundation
import GatewaySim
import NIOCore
import NIOHTTP1
import RoutingCore
import SimulationKernel
import Stochastics
import Synchronization

/// One team's clients, live: the spec's arrivals and request sizes (the simulation's own
/// random streams, drawn in the same order), each request sent to the gateway (to its
/// replicas in turn, each try to the next, as the simulated load balancer hands them) with the
/// team's key in the team's API (`teams.NAME.api`: a chat completion, or a Messages request
/// to `/v1/messages`), streamed or whole as the team's share says, and the
/// client SDK's retries when the gateway
/// gives up, by the simulated team's rule. What it measures is a ``TeamMetrics``, the same
/// type and the same definitions as the simulation's.
final class LiveTeam: Sendable {
    let spec: TeamSpec
    let key: String
    let clock: ScaledClock
    let client: HTTPClient
    /// Each gateway replica's URL for the team's API (``TwinRequestBody/path(for:)``).
    let endpoints: [String]
    /// The replica the next try goes to.
    private let nextReplica = Mutex(0)
    let window: MeasurementWindow
    /// The longest a request may take, in real time, before the client gives up on it.
    let requestTimeout: TimeAmount
    /// The routes (by name) that hold a stream before the client sees a byte (a
    /// `stream_commit`): the first frame then reaches the client at the commit. A request is
    /// on the team's route unless the gateway says a budget switched it (`x-brownout-route`).
    let holdingRoutes: Set<String>
    private let metrics: Mutex<TeamMetrics>
    /// The latencies as measured at the client, the twin's transport included (model ns).
    private let measured: Mutex<(total: LatencyHistogram, firstToken: LatencyHistogram)>
    /// Per successful request, the time spent between this client and the mock (both ways,
    /// through the gateway and loopback), in model nanoseconds.
    private let transport: Mutex<LatencyHistogram>
    /// The requests a local pool answered: the gateway's request id, the pool, and how long
    /// the mock served the answer by its plan (model ns). The gateway bills the pool's GPU time
    /// by the attempt's length as it measured it, transport and timer lateness included.
    private let poolAnswers = Mutex<[PoolAnswer]>([])
    private let sdkStream: Mutex<RandomStream>
    private let lateness: Mutex<LatencyHistogram>
    private let failures: Mutex<[LiveFailure]>

    init(
        spec: TeamSpec, key: String, clock: ScaledClock, client: HTTPClient, gateways: [String], window: MeasurementWindow,
        requestTimeout: TimeAmount, holdingRoutes: Set<String>, seed: UInt64, replication: Int
    ) {
        self.spec = spec
        self.key = key
        self.clock = clock
        self.client = client
        self.endpoints = gateways.map { $0 + TwinRequestBody.path(for: spec.apiProtocol) }
        self.window = window
        self.requestTimeout = requestTimeout
        self.holdingRoutes = holdingRoutes
        metrics = Mutex(TeamMetrics(name: spec.name))
        measured = Mutex((LatencyHistogram(), LatencyHistogram()))
        transport = Mutex(LatencyHistogram())
        sdkStream = Mutex(spec.sdkStream(seed: seed, replication: replication))
        lateness = Mutex(LatencyHistogram())
        failures = Mutex([])
    }

    /// Sends the team's arrivals until the horizon, waits for every request to end, and
    /// returns what the team measured (latencies net of the twin's transport, and as
    /// measured), the transport, and how late its sends were (real nanoseconds).
    func run(seed: UInt64, replication: Int) async -> LiveTeamResult {
        let arrivalStream = spec.arrivalStream(seed: seed, replication: replication)
        let sizeStream = spec.sizeStream(seed: seed, replication: replication)
        let streamChoice = spec.streamChoiceStream(seed: seed, replication: replication)
        var arrivals = spec.arrivals
        await withTaskGroup(of: Void.self) { group in
            var time: Int64 = 0
            while let next = arrivals.nextArrival(after: time, stream: arrivalStream), next < window.horizon {
                time = next
                let due = clock.instant(at: next)
                do { try await ScaledClock.sleep(until: due) } catch { break }
                let late = Seconds.nanoseconds(due.duration(to: .now))
                lateness.withLock { $0.record(nanoseconds: late) }
                let inputTokens = max(1, Int(spec.inputTokens.sample(sizeStream).rounded()))
                let outputTokens = max(1, Int(spec.outputTokens.sample(sizeStream).rounded()))
                let streamed = spec.nextRequestStreams(streamChoice)
                if next >= window.warmUp { metrics.withLock { $0.requests += 1 } }
                group.addTask { await self.request(arrivedAt: next, inputTokens: inputTokens, outputTokens: outputTokens, streamed: streamed) }
            }
        }
        let corrected = metrics.withLock { $0 }
        var raw = corrected
        (raw.totalLatency, raw.firstTokenLatency) = measured.withLock { $0 }
        return LiveTeamResult(
            metrics: corrected, rawMetrics: raw, transport: transport.withLock { $0 }, poolAnswers: poolAnswers.withLock { $0 },
            lateness: lateness.withLock { $0 }, failures: failures.withLock { $0 })
    }

    /// One request as its user sees it, across the SDK's tries.
    private func request(arrivedAt: Int64, inputTokens: Int, outputTokens: Int, streamed: Bool) async {
        let counted = arrivedAt >= window.warmUp
        var attempts = 0
        var sdkTry = 0
        // Latency runs from the first send, as a client measures it; how late that send was
        // against the arrival's due time is the load generator's, reported apart.
        var firstSentAt: Int64?
        while true {
            let result = await send(inputTokens: inputTokens, outputTokens: outputTokens, streamed: streamed)
            attempts += result.attempts
            let start = firstSentAt ?? result.sentAt
            firstSentAt = start
            switch result.ending {
            case .succeeded(let pool, let timing):
                guard counted else { return }
                let end = clock.nanoseconds()
                let net = timing.transport(attempts: result.attempts, end: end, held: streamed && holdingRoutes.contains(result.route ?? spec.route))
                if let net { transport.withLock { $0.record(nanoseconds: net.total) } }
                if let pool, let requestID = result.requestID, let planned = timing.plannedNanoseconds {
                    poolAnswers.withLock {
                        $0.append(PoolAnswer(replica: result.replica, requestID: requestID, pool: pool, plannedNanoseconds: planned))
                    }
                }
                metrics.withLock { metrics in
                    if pool != nil { metrics.succeededFallback += 1 } else { metrics.succeededFrontier += 1 }
                    metrics.attempts.record(Double(attempts))
                    metrics.totalLatency.record(nanoseconds: end - start - (net?.total ?? 0))
                    metrics.firstTokenLatency.record(nanoseconds: timing.firstTokenAt - start - (net?.firstToken ?? 0))
                }
                measured.withLock { measured in
                    measured.total.record(nanoseconds: end - start)
                    measured.firstToken.record(nanoseconds: timing.firstTokenAt - start)
                }
                return
            case .failed(let label, let sdkMayRetry):
                let tried = sdkTry
                if let delay = sdkStream.withLock({ stream in spec.sdkRetryDelay(afterTry: tried, mayRetry: sdkMayRetry, using: &stream) }) {
                    sdkTry += 1
                    if counted { metrics.withLock { $0.sdkRetries += 1 } }
                    do { try await clock.sleep(until: clock.nanoseconds() + delay) } catch { return }
                    continue
                }
                guard counted else { return }
                metrics.withLock { metrics in
                    metrics.failures[label, default: 0] += 1
                    metrics.attempts.record(Double(attempts))
                }
                let end = clock.nanoseconds()
                let failure = LiveFailure(
                    team: spec.name, arrivedAt: arrivedAt, label: label, inputTokens: inputTokens, outputTokens: outputTokens,
                    tries: sdkTry + 1, attempts: attempts, elapsed: end - start, lastTry: end - result.sentAt)
                failures.withLock { if $0.count < LiveFailure.limitPerTeam { $0.append(failure) } }
                return
            }
        }
    }

    /// How one try ended, as the client saw it.
    struct Try {
        enum Ending {
            /// `pool`: the local pool that answered (nil: a provider).
            case succeeded(pool: String?, timing: TwinTiming)
            /// `label`: the gateway's error code (or the HTTP status); `sdkMayRetry`: whether
            /// the SDK tries again, by the simulated team's rule.
            case failed(label: String, sdkMayRetry: Bool)
        }
        var ending: Ending
        /// The gateway's attempts (`x-brownout-attempts`).
        var attempts: Int
        /// When it was sent (model nanoseconds).
        var sentAt: Int64
        /// The gateway replica it was sent to (the index of its endpoint).
        var replica = 0
        /// The gateway's id of the request (`x-brownout-request-id`), for its trace.
        var requestID: UInt64? = nil
        /// The route a budget switched the request to (`x-brownout-route`); nil: its own.
        var route: String? = nil
    }

    private func send(inputTokens: Int, outputTokens: Int, streamed: Bool) async -> Try {
        let replica = nextReplica.withLock { next in
            defer { next = (next + 1) % endpoints.count }
            return next
        }
        var tried = await send(to: replica, inputTokens: inputTokens, outputTokens: outputTokens, streamed: streamed)
        tried.replica = replica
        return tried
    }

    private func send(to replica: Int, inputTokens: Int, outputTokens: Int, streamed: Bool) async -> Try {
        var request = HTTPClientRequest(url: endpoints[replica])
        request.method = .POST
        switch spec.apiProtocol {
        case .openai:
            request.headers.add(name: "authorization", value: "Bearer \(key)")
        case .anthropic:
            request.headers.add(name: "x-api-key", value: key)
            request.headers.add(name: "anthropic-version", value: "2023-06-01")
        }
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(
            TwinRequestBody.make(route: spec.route, inputTokens: inputTokens, outputTokens: outputTokens, stream: streamed, api: spec.apiProtocol))
        let sentAt = clock.nanoseconds()
        do {
            let response = try await client.execute(request, timeout: requestTimeout)
            let attempts = response.headers.first(name: "x-brownout-attempts").flatMap { Int($0) } ?? 0
            let requestID = response.headers.first(name: "x-brownout-request-id").flatMap { UInt64($0) }
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1 << 20)
                let code = TwinRequestBody.errorCode(in: body)
                // Labelled as the simulator labels it: the router's own name for the ending.
                let label = response.headers.first(name: "x-brownout-failure") ?? "http_\(response.status.code)"
                return Try(
                    ending: .failed(
                        label: label,
                        sdkMayRetry: TwinRequestBody.sdkRetries(
                            status: Int(response.status.code), code: code, shouldRetry: response.headers.first(name: "x-should-retry"))),
                    attempts: attempts, sentAt: sentAt)
            }
            let pool = response.headers.first(name: "x-brownout-degraded") == "true" ? response.headers.first(name: "x-brownout-upstream") : nil
            var timing = TwinTiming(sentAt: sentAt)
            guard streamed else { return await whole(response, timing: timing, attempts: attempts, pool: pool, requestID: requestID) }
            var scanner = StreamEndScanner()
            do {
                for try await chunk in response.body {
                    if timing.firstTokenAt == 0 {
                        timing.firstTokenAt = clock.nanoseconds()
                        (timing.upstreamArrival, timing.firstTokenDue) = TwinTiming.stamps(in: chunk.readableBytesView) ?? (nil, nil)
                    }
                    scanner.scan(chunk)
                }
            } catch {
                // The gateway's own connection broke mid-answer: the gateway failed.
                return Try(ending: .failed(label: TeamMetrics.gatewayFailure, sdkMayRetry: false), attempts: attempts, sentAt: sentAt)
            }
            timing.endDue = scanner.lastStamps?.due
            // A stream that began and broke is not tried again: the SDK has handed the
            // application part of an answer (the simulated team's rule too).
            switch scanner.ending {
            case .done:
                return Try(
                    ending: .succeeded(pool: pool, timing: timing), attempts: attempts, sentAt: sentAt, requestID: requestID,
                    route: response.headers.first(name: "x-brownout-route"))
            // The gateway sends an error event only when the upstream's stream broke after the
            // first byte; an answer that just stops is the gateway's own failure.
            case .error:
                return Try(ending: .failed(label: OutcomeClass.failedAfterFirstByte.rawValue, sdkMayRetry: false), attempts: attempts, sentAt: sentAt)
            case .open: return Try(ending: .failed(label: TeamMetrics.gatewayFailure, sdkMayRetry: false), attempts: attempts, sentAt: sentAt)
            }
        } catch {
            return Try(ending: .failed(label: TeamMetrics.gatewayFailure, sdkMayRetry: true), attempts: 0, sentAt: sentAt)
        }
    }

    /// A whole answer: it reaches the client at once, at its end (its first token is its end,
    /// and its one stamp says when the mock finished it). A body that breaks or is not an
    /// answer is the gateway's failure.
    private func whole(_ response: HTTPClientResponse, timing: TwinTiming, attempts: Int, pool: String?, requestID: UInt64?) async -> Try {
        var timing = timing
        var body = ByteBuffer()
        do {
            for try await var chunk in response.body {
                if timing.firstTokenAt == 0 { timing.firstTokenAt = clock.nanoseconds() }
                body.writeBuffer(&chunk)
            }
        } catch {
            return Try(ending: .failed(label: TeamMetrics.gatewayFailure, sdkMayRetry: false), attempts: attempts, sentAt: timing.sentAt)
        }
        guard TwinRequestBody.isAnswer(body, api: spec.apiProtocol) else {
            return Try(ending: .failed(label: TeamMetrics.gatewayFailure, sdkMayRetry: false), attempts: attempts, sentAt: timing.sentAt)
        }
        (timing.upstreamArrival, timing.firstTokenDue) = TwinTiming.latestStamps(in: body.readableBytesView) ?? (nil, nil)
        timing.endDue = timing.firstTokenDue
        return Try(ending: .succeeded(pool: pool, timing: timing), attempts: attempts, sentAt: timing.sentAt, requestID: requestID)
    }
}
