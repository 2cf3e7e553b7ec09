import AsyncHTTPClient
import ConfigSchema
import Foundation
import RoutingCore
import Synchronization

/// What every request shares: the one router (behind a mutex: its calls are synchronous and
/// take microseconds), the upstreams by target, the API keys, the decision log and the counters.
public final class GatewayCore: Sendable {
    let router: Mutex<Router>
    let config: RouterConfig
    let upstreams: [UpstreamAttempt]
    let keys: APIKeys
    let decisionLog: DecisionLogWriter?
    let metrics = GatewayMetrics()
    private let nextRequestID = Atomic<UInt64>(0)

    public init(spec: GatewaySpec, client: HTTPClient, router: consuming sending Router, environment: [String: String]) throws {
        config = spec.router
        upstreams = spec.router.targets.map { target in
            let upstream = spec.deployment.upstreams.first { $0.target == target.name }!
            return UpstreamAttempt(client: client, upstream: upstream, apiKey: upstream.apiKeyEnvironmentVariable.flatMap { environment[$0] })
        }
        keys = APIKeys(hashes: spec.deployment.keyHashes)
        decisionLog = try spec.deployment.decisionLog.map { try DecisionLogWriter(path: $0.path, maxBytes: $0.maxBytes) }
        self.router = Mutex(router)
    }

    func requestID() -> UInt64 {
        nextRequestID.add(1, ordering: .relaxed).newValue
    }

    /// Calls the router and logs the decision it returns.
    func decide(_ call: (inout Router) -> Decision) -> Decision {
        let (decision, record) = router.withLock { router -> (Decision, DecisionRecord?) in
            let decision = call(&router)
            return (decision, decisionLog == nil ? nil : router.record(decision))
        }
        if let record { decisionLog?.append(record) }
        return decision
    }

    /// The routes a team's key may use, as models.
    var models: [String] { config.routes.map(\.name) }
}

extension GatewayCore {
    /// Writes the budgets' spend to `path` atomically (a restart restores it).
    public func saveSpend(to path: String?) {
        guard let path else { return }
        let records = router.withLock { $0.spendRecords() }
        guard let data = try? JSONEncoder().encode(records) else { return }
        try? FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        _ = try? FileManager.default.replaceItemAt(URL(fileURLWithPath: path), withItemAt: URL(fileURLWithPath: temporary))
        if FileManager.default.fileExists(atPath: temporary) { try? FileManager.default.moveItem(atPath: temporary, toPath: path) }
    }

    public func close() {
        decisionLog?.close()
    }
}
