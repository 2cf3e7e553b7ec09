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
    let spendStore: SpendStore?
    let metrics: GatewayMetrics
    private let nextRequestID = Atomic<UInt64>(0)

    public init(spec: GatewaySpec, client: HTTPClient, router: consuming sending Router, environment: [String: String]) throws {
        config = spec.router
        metrics = GatewayMetrics(config: spec.router)
        upstreams = spec.router.targets.map { target in
            let upstream = spec.deployment.upstreams.first { $0.target == target.name }!
            return UpstreamAttempt(client: client, upstream: upstream, apiKey: upstream.apiKeyEnvironmentVariable.flatMap { environment[$0] })
        }
        keys = APIKeys(hashes: spec.deployment.keyHashes)
        // The spend database first (restoring it can fail on a record the config no longer
        // has), the decision log last: a start that fails leaves no new file behind.
        let newDatabase = spec.deployment.spendDatabase.map { !FileManager.default.fileExists(atPath: $0) } ?? false
        spendStore = try spec.deployment.spendDatabase.map { try SpendStore(path: $0) }
        var router = router
        do {
            if let spendStore { try router.restoreSpend(try spendStore.load()) }
            decisionLog = try spec.deployment.decisionLog.map { try DecisionLogWriter(path: $0.path, maxBytes: $0.maxBytes) }
        } catch {
            if newDatabase, let path = spec.deployment.spendDatabase {
                for file in [path, path + "-wal", path + "-shm", path + "-journal"] { try? FileManager.default.removeItem(atPath: file) }
            }
            throw error
        }
        self.router = Mutex(router)
    }

    func requestID() -> UInt64 {
        nextRequestID.add(1, ordering: .relaxed).newValue
    }

    /// Calls the router and logs the decision it returns.
    func decide(_ call: (inout Router) -> Decision) -> Decision {
        decide { router in ((), call(&router)) }.1
    }

    /// The same, for a call that returns more than the decision (`begin` returns the
    /// request's state too).
    func decide<T: Sendable>(_ call: (inout Router) -> (T, Decision)) -> (T, Decision) {
        let (result, record) = router.withLock { router -> ((T, Decision), DecisionRecord?) in
            let result = call(&router)
            return (result, decisionLog == nil ? nil : router.record(result.1))
        }
        if let record { decisionLog?.append(record) }
        return result
    }

    /// The routes a team's key may use, as models.
    var models: [String] { config.routes.map(\.name) }
}

extension GatewayCore {
    /// Saves the budgets' spend (a restart restores it).
    public func saveSpend() {
        guard let spendStore else { return }
        let records = router.withLock { $0.spendRecords() }
        do {
            try spendStore.save(records)
        } catch {
            FileHandle.standardError.write(Data("brownout-gateway: could not save spend to \(spendStore.path): \(error)\n".utf8))
        }
    }

    public func close() {
        decisionLog?.close()
    }
}
