import Foundation
import ServiceLifecycle
import Synchronization

/// `deployment.shutdown_grace_s`, kept: when a graceful shutdown begins (SIGTERM, SIGINT), the
/// requests in flight get the grace to finish; at its end every one still in flight is cut
/// (``GatewayCore/cutRequestsInFlight()``): its attempts cancelled, a client without a byte yet
/// answered 503 `gateway_shutting_down` with `x-should-retry: true`, a stream in progress
/// ended with an error event. Placed last among the services, it hears of the shutdown first
/// (a service group stops its services in reverse order) and returns at once, so the server's
/// own drain starts meanwhile.
struct ShutdownDeadline: Service {
    let core: GatewayCore
    let grace: Duration

    func run() async throws {
        do { try await gracefulShutdown() } catch { return }
        core.beginDraining()
        let core = core, grace = grace
        Task {
            try? await Task.sleep(for: grace)
            let cut = core.cutRequestsInFlight()
            if cut > 0 {
                FileHandle.standardError.write(
                    Data("brownout-gateway: the shutdown grace ended with \(cut) request\(cut == 1 ? "" : "s") in flight; cut\n".utf8))
            }
        }
    }
}

/// Whether a request was cut by ``ShutdownDeadline`` (set once, from the cut; read by the
/// request's coordinator when it answers).
final class ShutdownCut: Sendable {
    private let cut = Atomic(false)
    var happened: Bool { cut.load(ordering: .acquiring) }
    func mark() { cut.store(true, ordering: .releasing) }
}
