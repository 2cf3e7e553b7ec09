import Synchronization

/// Counts one answer once: completed, or cancelled when its connection closed first.
public final class AnswerEnding: Sendable {
    private let ended = Mutex(false)
    private let state: MockState

    public init(state: MockState) {
        self.state = state
    }

    public func end(completed: Bool) {
        guard first() else { return }
        Task { await count(completed: completed) }
    }

    /// Counts it before returning (a whole answer is counted before the client can have it).
    public func endNow(completed: Bool) async {
        guard first() else { return }
        await count(completed: completed)
    }

    private func count(completed: Bool) async {
        if completed { await state.completed() } else { await state.cancelled() }
    }

    private func first() -> Bool {
        ended.withLock { ended -> Bool in
            defer { ended = true }
            return !ended
        }
    }
}
