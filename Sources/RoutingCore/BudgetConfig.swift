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

    public init(scope: BudgetScope, limitUSD: Double, period: BudgetPeriod = .default, mode: BudgetMode = .hardStop) {
        self.scope = scope
        self.limitUSD = limitUSD
        self.period = period
        self.mode = mode
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
