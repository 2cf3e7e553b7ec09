import Foundation

/// A progress bar on stderr, drawn only when stderr is a terminal.
public final class ProgressBar: Sendable {
    public let label: String
    public let isEnabled: Bool
    private let started = ContinuousClock.now

    public init(label: String) {
        self.label = label
        self.isEnabled = isatty(STDERR_FILENO) != 0
    }

    public func update(_ done: Int, of total: Int) {
        guard isEnabled else { return }
        let width = 30
        let filled = total > 0 ? width * done / total : width
        let elapsed = started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let remaining = done > 0 ? seconds / Double(done) * Double(total - done) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) \(label), ~\(Int(remaining.rounded())) s left ".utf8))
    }

    /// The callback to hand to a long run: nil when nothing is drawn.
    public var callback: (@Sendable (Int, Int) -> Void)? {
        guard isEnabled else { return nil }
        return { [self] done, total in update(done, of: total) }
    }

    public func finish() {
        guard isEnabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
