import RoutingCore

/// A time in a spec: seconds from the start (`5400`) or a time `HH:MM[:SS]`. Without
/// `run.start_time` a time is run time (the run starts at 00:00, up to 47:59:59); with it, it
/// is the time of day (a time before the start is on the next day).
public enum ClockTime: Decodable, Sendable, Equatable {
    case seconds(Double)
    case hoursMinutes(Double, text: String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        if let seconds = Double(text), seconds >= 0 {
            self = .seconds(seconds)
        } else if let seconds = ClockTime.seconds(ofTimeOfDay: text, limitHours: 48) {
            self = .hoursMinutes(seconds, text: text)
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "must be seconds from the start or a time HH:MM[:SS], got '\(text)'")
        }
    }

    /// Seconds from the run's start; `startOfDay` is `run.start_time` in seconds after midnight.
    public func secondsFromStart(startOfDay: Double?) -> Double? {
        switch self {
        case .seconds(let seconds): return seconds
        case .hoursMinutes(let time, _):
            guard let start = startOfDay else { return time }
            guard time < 86_400 else { return nil }
            return (time - start + 86_400).truncatingRemainder(dividingBy: 86_400)
        }
    }

    /// "HH:MM" or "HH:MM:SS" in seconds, hours below `limitHours`; nil when it is not one.
    public static func seconds(ofTimeOfDay text: String, limitHours: Int) -> Double? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 0 }), parts[0]! < limitHours, parts[1]! < 60,
            parts.count == 2 || parts[2]! < 60
        else { return nil }
        return Double(parts[0]! * 3_600 + parts[1]! * 60 + (parts.count == 3 ? parts[2]! : 0))
    }
}
