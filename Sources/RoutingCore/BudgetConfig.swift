/// What happens when a budget is used up.
public enum BudgetMode: Codable, Sendable, Equatable {
    /// Refuse requests that could take spend over the limit; the limit is never exceeded.
    case hardStop
    /// Send the team's requests to a cheaper route instead.
    case degrade(toRoute: String)
    /// Keep serving; mark decisions `budget_alert`.
    case alertOnly
}

/// Whose spend a budget limits. Written `{"team": "search"}` or `{"key": "ci-bot"}`.
public enum BudgetScope: Codable, Sendable, Equatable {
    case team(String)
    case key(String)

    enum CodingKeys: String, CodingKey { case team, key }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch (try c.decodeIfPresent(String.self, forKey: .team), try c.decodeIfPresent(String.self, forKey: .key)) {
        case (let team?, nil): self = .team(team)
        case (nil, let key?): self = .key(key)
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a budget scope is {\"team\": NAME} or {\"key\": NAME}"))
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

/// A spend limit in USD over a repeating period (e.g. 86,400 s for a daily budget).
public struct BudgetConfig: Codable, Sendable, Equatable {
    public var scope: BudgetScope
    public var limitUSD: Double
    public var periodSeconds: Double
    public var mode: BudgetMode

    public init(scope: BudgetScope, limitUSD: Double, periodSeconds: Double, mode: BudgetMode) {
        self.scope = scope
        self.limitUSD = limitUSD
        self.periodSeconds = periodSeconds
        self.mode = mode
    }
}

/// A team: who is charged, how important its traffic is, and its own limits.
public struct TeamConfig: Codable, Sendable, Equatable {
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
