import Synchronization

/// How a departed client cancels the attempt a whole answer runs inline: the attempt
/// registers its upstream request's cancel while it runs.
final class InlineAttemptCancel: Sendable {
    private let state = Mutex<(left: Bool, cancel: (@Sendable () -> Void)?)>((false, nil))

    var clientHasLeft: Bool { state.withLock { $0.left } }

    /// The client left: the running attempt (if any) is cancelled, and so is any started later.
    func clientLeft() {
        state.withLock { state -> (@Sendable () -> Void)? in
            state.left = true
            return state.cancel
        }?()
    }

    /// `cancel` cancels the attempt now running (nil: none runs); runs it at once if the
    /// client has already left.
    func running(_ cancel: (@Sendable () -> Void)?) {
        let left = state.withLock { state in
            state.cancel = cancel
            return state.left
        }
        if left { cancel?() }
    }
}
