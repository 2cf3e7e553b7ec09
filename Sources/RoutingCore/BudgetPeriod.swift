/// The period over which a budget's spend adds up before it starts again, on the UTC
/// calendar of the router's ``WallClock``.
public enum BudgetPeriod: Sendable, Equatable, Hashable {
    /// Calendar periods by name, as a config writes them (`period: day`).
    public enum Calendar: String, CaseIterable, Sendable {
        case day, month
    }

    /// A UTC day, midnight to midnight.
    case day
    /// A UTC calendar month.
    case month
    /// Consecutive stretches of this many seconds counted from the Unix epoch (so 3,600 is
    /// the UTC hour, 86,400 the UTC day).
    case every(seconds: Double)

    /// A budget without a period is a daily one.
    public static let `default` = BudgetPeriod.day

    /// The number of the period that contains `unixNanoseconds` (UTC): consecutive periods
    /// have consecutive numbers.
    public func number(atUnixNanoseconds time: Int64) -> Int64 {
        switch self {
        case .day:
            return Self.floorDivide(time, 86_400_000_000_000)
        case .month:
            let (year, month) = Self.civilMonth(days: Self.floorDivide(time, 86_400_000_000_000))
            return year * 12 + (month - 1)
        case .every(let seconds):
            return Self.floorDivide(time, max(1, Seconds.nanoseconds(seconds)))
        }
    }

    /// The period's length in seconds (a month: the mean Gregorian month, 30.436875 days).
    public var nominalSeconds: Double {
        switch self {
        case .day: return 86_400
        case .month: return 2_629_746
        case .every(let seconds): return seconds
        }
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    /// Year and month (1–12) of the day `days` after 1970-01-01, proleptic Gregorian
    /// (Howard Hinnant's `civil_from_days`).
    static func civilMonth(days: Int64) -> (year: Int64, month: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month)
    }
}
