import Foundation
import Logging
import PostgresNIO
import RoutingCore
import ServiceLifecycle
import Synchronization

/// Breakers shared by a gateway's replicas (`gateway.breaker_scope: shared`, with
/// `deployment.state: postgres`), a service of the gateway's group: this replica's breaker
/// changes, which its router queues (``RoutingCore/Router/takeBreakerNotices()``), go out as
/// notifications on one PostgreSQL channel (`NOTIFY brownout_breakers`), and the other
/// replicas' arrive on it and are handed to the router
/// (``RoutingCore/Router/breakerChangedElsewhere(_:)``, a line of the trace). Nothing of it is
/// on a request's path: a change is queued under the router's lock and sent from here. While
/// the database is down, changes are not shared — each replica's breakers go on with what it
/// sees —, counted in `brownout_breaker_notices_dropped_total`, and `brownout_shared_breakers_up`
/// reads 0; the listener connects again every second.
final class SharedBreakers: Service, Sendable {
    static let channel = "brownout_breakers"
    /// This replica's rank (its boot id): its own notifications come back to it and are passed
    /// over; of replicas that open a breaker at once, the lowest probes.
    let rank: UInt64
    private let configuration: PostgresConnection.Configuration
    private let config: RouterConfig
    private let metrics: GatewayMetrics
    private let outgoing: AsyncStream<BreakerNotice>
    private let continuation: AsyncStream<BreakerNotice>.Continuation
    /// The connection listening (and sending), while there is one.
    private let connection = Mutex<PostgresConnection?>(nil)
    /// Where another replica's change goes (the router, under its lock).
    private let receiver = Mutex<(@Sendable (BreakerNotice) -> Void)?>(nil)
    private let logger: Logger

    init(url: DatabaseURL, rank: UInt64, config: RouterConfig, metrics: GatewayMetrics) throws {
        self.configuration = try url.connectionConfiguration()
        self.rank = rank
        self.config = config
        self.metrics = metrics
        (outgoing, continuation) = AsyncStream.makeStream(of: BreakerNotice.self, bufferingPolicy: .bufferingNewest(1_024))
        var logger = Logger(label: "brownout-gateway.shared-breakers")
        logger.logLevel = .critical
        self.logger = logger
    }

    /// Queues this replica's changes to be sent (under the router's lock: never waits).
    func send(_ notices: [BreakerNotice]) {
        for notice in notices { continuation.yield(notice) }
    }

    /// Other replicas' changes go to `body`.
    func receive(with body: @escaping @Sendable (BreakerNotice) -> Void) {
        receiver.withLock { $0 = body }
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.publish() }
                group.addTask { await self.listen() }
            }
        } onGracefulShutdown: {
            self.continuation.finish()
            let open = self.connection.withLock { $0 }
            if let open { Task { try? await open.close() } }
        }
    }

    /// Sends each queued change on the listening connection; with none, the change is dropped.
    private func publish() async {
        for await notice in outgoing {
            guard let connection = connection.withLock({ $0 }) else {
                metrics.breakerNoticeDropped()
                continue
            }
            let payload = Self.payload(notice, from: rank, config: config)
            do {
                let rows = try await connection.query("SELECT pg_notify(\(Self.channel), \(payload))", logger: logger)
                for try await _ in rows {}
            } catch {
                metrics.breakerNoticeDropped()
            }
        }
    }

    /// Listens on the channel, connecting again a second after the connection is lost, until
    /// the gateway shuts down.
    private func listen() async {
        var id = 1
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let made = try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
                id += 1
                connection.withLock { $0 = made }
                metrics.sharedBreakers(up: true)
                try await made.listen(on: Self.channel) { notifications in
                    for try await notification in notifications { deliver(notification.payload) }
                }
            } catch {}
            let lost = connection.withLock { connection in
                defer { connection = nil }
                return connection
            }
            try? await lost?.close()
            metrics.sharedBreakers(up: false)
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            } catch {
                return
            }
        }
    }

    /// Another replica's notification, to the router; this replica's own and what cannot be
    /// read (another gateway's spec, say) are passed over.
    private func deliver(_ payload: String) {
        guard let (from, notice) = Self.notice(in: payload, config: config), from != rank else { return }
        receiver.withLock { $0 }?(notice)
    }

    /// A notification's payload: `{"from":"RANK","target":"NAME","state":"open","open_ns":N}`
    /// or `…"state":"closed"}` (the rank as a string: JSON numbers lose 64-bit integers).
    static func payload(_ notice: BreakerNotice, from rank: UInt64, config: RouterConfig) -> String {
        var text = #"{"from":""# + String(rank) + #"","target":"# + JSONText.quoted(config.name(of: notice.target))
        switch notice {
        case .opened(_, let nanoseconds, _): text += #","state":"open","open_ns":"# + String(nanoseconds) + "}"
        case .closed: text += #","state":"closed"}"#
        }
        return text
    }

    /// The sender's rank and its change, or nil for a payload that is not one (or names a
    /// target this spec does not have).
    static func notice(in payload: String, config: RouterConfig) -> (from: UInt64, notice: BreakerNotice)? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any],
            let from = (object["from"] as? String).flatMap(UInt64.init), let name = object["target"] as? String,
            let target = try? config.target(named: name)
        else { return nil }
        switch object["state"] as? String {
        case "open":
            guard let nanoseconds = (object["open_ns"] as? NSNumber)?.int64Value else { return nil }
            return (from, .opened(target, forNanoseconds: nanoseconds, by: from))
        case "closed": return (from, .closed(target))
        default: return nil
        }
    }
}
