/// A parameter or input of a stochastic model is invalid. The message names what is wrong,
/// the value given and what would be valid, so it can be shown to a user as it is.
public struct StochasticsError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension StochasticsError {
    /// Checks that `value` is a finite number greater than zero.
    static func requirePositive(_ value: Double, _ what: String) throws(StochasticsError) {
        guard value.isFinite, value > 0 else {
            throw StochasticsError("\(what) must be a finite number > 0, got \(value)")
        }
    }

    /// Checks that `value` is a finite number.
    static func requireFinite(_ value: Double, _ what: String) throws(StochasticsError) {
        guard value.isFinite else {
            throw StochasticsError("\(what) must be a finite number, got \(value)")
        }
    }

    /// Checks that `value` is a probability in [0, 1].
    static func requireProbability(_ value: Double, _ what: String) throws(StochasticsError) {
        guard value.isFinite, value >= 0, value <= 1 else {
            throw StochasticsError("\(what) must be a probability in [0, 1], got \(value)")
        }
    }
}
