import ServiceLifecycle

/// The gateway's background bookkeeping, a service of its service group: the decision log and
/// trace written every second, spend saved every 5 s (when it changed). It ends when the group
/// shuts down, before the final save (``GatewayCore/close()``), which is then the last write.
struct PeriodicFlush: Service {
    let core: GatewayCore

    func run() async throws {
        var second = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            } catch {
                return
            }
            await core.flushLogs()
            second += 1
            if second % 5 == 0 { await core.saveSpend() }
        }
    }
}
