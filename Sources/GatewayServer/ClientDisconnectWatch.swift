#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Synchronization

/// Notices a client that closed its connection while its request is still being answered.
/// The server reads nothing from a connection while its handler runs, so a close shows only
/// when a write fails — after the upstream attempts have run (and been paid for). The watch
/// asks the kernel instead, every ``interval``: the connection is gone when its channel is
/// inactive or its TCP state is no longer established (the client's FIN puts it in
/// CLOSE_WAIT). It calls its action once, on the connection's event loop.
final class ClientDisconnectWatch: Sendable {
    /// How often the connection is checked: a departed client's attempts run on at most this long.
    static let interval = TimeAmount.milliseconds(100)

    private final class Slot: Sendable {
        let state = Mutex<(task: RepeatedTask?, action: (@Sendable () -> Void)?)>((nil, nil))

        /// Takes the action and the task (once): nil after the first call.
        func take() -> (task: RepeatedTask?, action: (@Sendable () -> Void)?) {
            state.withLock { state in
                defer { state = (nil, nil) }
                return state
            }
        }
    }

    private let slot = Slot()

    /// Starts watching `channel`; `action` runs at most once, when the client is gone.
    init(channel: any Channel, action: @escaping @Sendable () -> Void) {
        let slot = self.slot
        slot.state.withLock { $0.action = action }
        let task = channel.eventLoop.scheduleRepeatedAsyncTask(initialDelay: Self.interval, delay: Self.interval) { _ in
            Self.isConnected(channel).map { connected in
                guard !connected else { return }
                let (task, action) = slot.take()
                task?.cancel()
                action?()
            }
        }
        let stopped = slot.state.withLock { state in
            state.task = task
            return state.action == nil
        }
        if stopped { task.cancel() }
    }

    /// Stops watching (the answer is over); the action will not run.
    func stop() {
        slot.take().task?.cancel()
    }

    /// Whether the client's TCP connection is still established, from the kernel's `TCP_INFO`.
    private static func isConnected(_ channel: any Channel) -> EventLoopFuture<Bool> {
        guard channel.isActive else { return channel.eventLoop.makeSucceededFuture(false) }
        #if os(Linux)
        guard let socket = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(true) }
        return socket.getTCPInfo().map { $0.tcpi_state == 1 }.recover { _ in true }  // 1: TCP_ESTABLISHED
        #else
        return channel.eventLoop.makeSucceededFuture(true)
        #endif
    }
}
