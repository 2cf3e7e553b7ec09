/// What happens when a budget is used up.
public enum BudgetMode: Sendable, Equatable {
    /// The modes by name, as a config writes them.
    public enum Kind: String, CaseIterable, Sendable {
        case hardStop = "hard_stop", degrade
        case alertOnly = "alert_only"
    }

    /// Refuse requests that could take spend over the limit; the limit is never exceeded.
    case hardStop
    /// Send the team's requests to a cheaper route instead.
    case degrade(toRoute: String)
    /// Keep serving; mark decisions `budget_alert`.
    case alertOnly
}

/// Whose spend a budget limits: a team's (`teams.NAME.budget`) or an API key's (`key_budgets.NAME`).
public enum BudgetScope: Sendable, Equatable, Hashable, Codable {
    case team(String)
    case key(String)

    enum CodingKeys: String, CodingKey { case team, key }

    /// Written `{"team": "search"}` or `{"key": "ci-bot"}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch (try c.decodeIfPresent(String.self, forKey: .team), try c.decodeIfPresent(String.self, forKey: .key)) {
        case (let team?, nil): self = .team(team)
        case (nil, let key?): self = .key(key)
        default:
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "a budget scope is {\"team\": NAME} or {\"key\": NAME}"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .team(let name): try c.encode(name, forKey: .team)
        case .key(let name): try c.encode(name, forKey: .key)
        }
    }
}

/// One budget's settled spend in one period, as saved across a restart.
public struct BudgetSpendRecord: Codable, Sendable, Equatable {
    public var scope: BudgetScope
    /// The period's number (``BudgetPeriod/number(atUnixNanoseconds:)``).
    public var period: Int64
    public var spentUSD: Double

    public init(scope: BudgetScope, period: Int64, spentUSD: Double) {
        self.scope = scope
        self.period = period
        self.spentUSD = spentUSD
    }
}

/// A spend limit in USD over a repeating period. Calendar periods (a UTC day or month) follow
/// the router's injected ``WallClock``, so a daily budget resets at midnight UTC, not a day
/// after the process started.
public struct BudgetConfig: Sendable, Equatable {
    public var scope: BudgetScope
    public var limitUSD: Double
    public var period: BudgetPeriod
    public var mode: BudgetMode
    /// Replicas sharing the budget through a database that is down (`state_down`): go on
    /// with what this replica holds plus one more slice of its own (`fail_open`, the default), or
    /// only with what it holds (`fail_closed`).
    public var whenStateDown: StateDownPolicy

    public init(
        scope: BudgetScope, limitUSD: Double, period: BudgetPeriod = .default, mode: BudgetMode = .hardStop,
        whenStateDown: StateDownPolicy = .failOpen
    ) {
        self.scope = scope
        self.limitUSD = limitUSD
        self.period = period
        self.mode = mode
        self.whenStateDown = whenStateDown
    }
}

/// What a budget shared by replicas does while the database they share it through is down.
public enum StateDownPolicy: String, CaseIterable, Sendable {
    /// Keep going on the slice this replica holds and one more of its own: a hard-stop budget
    /// may then end over its limit by up to one slice per replica.
    case failOpen = "fail_open"
    /// Keep going only on the slice this replica holds: never over the limit.
    case failClosed = "fail_closed"
}

/// A change to what one replica holds of a budget shared by replicas (budget leases): `usd`
/// granted for `period` (positive; `local`: an allowance of its own while the database is
/// down) or given back (negative). A router call (``Router/budgetLeaseChanged(_:)``) and a line
/// of the trace.
public struct BudgetLease: Sendable, Equatable {
    public var scope: BudgetScope
    public var period: Int64
    public var usd: Double
    public var local: Bool

    public init(scope: BudgetScope, period: Int64, usd: Double, local: Bool = false) {
        self.scope = scope
        self.period = period
        self.usd = usd
        self.local = local
    }
}

/// One budget as its lease service sees it (``Router/budgetLeaseStates()``): its limit and
/// period now, and this replica's spend, reservations and holding in it.
public struct BudgetLeaseState: Sendable, Equatable {
    public var config: BudgetConfig
    public var period: Int64
    public var spentUSD: Double
    public var reservedUSD: Double
    public var leasedUSD: Double
    /// The next period, when it begins within the lookahead asked for (nil: later), and what
    /// this replica holds of it already.
    public var upcomingPeriod: Int64?
    public var upcomingLeasedUSD: Double
    /// The largest amount (a request's worst case) this replica's holding was too small for
    /// since its last slice came.
    public var wantedUSD: Double

    /// What this replica may still commit in the period.
    public var headroomUSD: Double { leasedUSD - spentUSD - reservedUSD }

    /// What to ask for now, by the rule every replica follows (the live gateway's lease
    /// service and the simulated replicas alike): for the current period, another slice
    /// (`fraction` of the limit) once less than half of one is left — or, when a request's worst
    /// case did not fit, what it lacks, if that is more; for a period about to begin, its first
    /// slice. Nil where nothing is asked.
    public func wants(fraction: Double) -> (current: Double?, upcoming: Double?) {
        let slice = max(0, config.limitUSD * fraction)
        var current: Double?
        if headroomUSD < max(slice / 2, wantedUSD) { current = max(slice, wantedUSD - max(0, headroomUSD)) }
        var upcoming: Double?
        if upcomingPeriod != nil && upcomingLeasedUSD < slice / 2 { upcoming = slice }
        return (current, upcoming)
    }
}

/// A team: who is charged, how important its traffic is, and its own limits.
public struct TeamConfig: Sendable, Equatable {
    public var name: String
    /// Priority tier: 0 is the most important.
    public var tier: Int
    public var rateLimit: RateLimit?

    public init(name: String, tier: Int = 0, rateLimit: RateLimit? = nil) {
        self.name = name
        self.tier = tier
        self.rateLimit = rateLimit
    }
}
