/// Chargeback: every attempt's cost attributed to the team that sent it.
///
/// The five amounts are disjoint and add up to ``totalUSD``:
/// - successful: the frontier attempt that produced the answer;
/// - retried: failed frontier attempts of requests that then succeeded (the price of getting there);
/// - wasted: every frontier attempt of a request that failed, and cancelled or losing hedges;
/// - fallback: every local-pool attempt, whatever its outcome, in GPU-seconds and USD;
/// - bypass: everything sent outside the gateway (the gateway sees it only in simulation).
public struct TeamSpend: Codable, Sendable, Equatable {
    public var successfulUSD: Double = 0
    public var retriedUSD: Double = 0
    public var wastedUSD: Double = 0
    public var fallbackGPUSeconds: Double = 0
    public var fallbackUSD: Double = 0
    public var bypassUSD: Double = 0

    public init() {}

    /// Everything the team was charged: the five disjoint amounts together.
    public var totalUSD: Double { successfulUSD + retriedUSD + wastedUSD + fallbackUSD + bypassUSD }

    /// What frontier providers charged through the gateway (everything but the local pools and bypass).
    public var frontierUSD: Double { successfulUSD + retriedUSD + wastedUSD }
}

/// The ledger of all teams, indexed like `RouterConfig.teams`; spend of requests without a
/// team (a config with no teams) is kept apart, never dropped.
public struct Ledger: Codable, Sendable, Equatable {
    public private(set) var teams: [TeamSpend]
    /// Requests that named no team.
    public private(set) var unattributed = TeamSpend()

    /// One team's spend.
    public func spend(of team: TeamID) -> TeamSpend { teams[team.index] }

    public init(teamCount: Int) {
        teams = Array(repeating: TeamSpend(), count: teamCount)
    }

    /// Adds `spend` to the team at `index` (the router's order; out of range: unattributed), as
    /// a ledger's rows are read back.
    public mutating func add(_ spend: TeamSpend, team index: Int?) {
        if let index, teams.indices.contains(index) { teams[index].add(spend) } else { unattributed.add(spend) }
    }

    /// Charges one request's attempts: `winningUSD`, `failedUSD` and `cancelledUSD` are frontier
    /// costs only; the local pools' part arrives apart as `gpuSeconds` and `gpuUSD`.
    /// What was charged since `earlier`, a snapshot of this ledger (say at the end of a
    /// warm-up, or at the start of a reporting period).
    public func subtracting(_ earlier: Ledger) -> Ledger {
        var result = self
        for index in result.teams.indices where earlier.teams.indices.contains(index) {
            result.teams[index].subtract(earlier.teams[index])
        }
        result.unattributed.subtract(earlier.unattributed)
        return result
    }

    /// This ledger and `other` together (the replicas of one gateway: each keeps its own).
    public func adding(_ other: Ledger) -> Ledger {
        var result = self
        for index in result.teams.indices where other.teams.indices.contains(index) {
            result.teams[index].add(other.teams[index])
        }
        result.unattributed.add(other.unattributed)
        return result
    }

    mutating func settle(
        team: Int, succeeded: Bool, winningUSD: Double, failedUSD: Double, cancelledUSD: Double,
        gpuSeconds: Double, gpuUSD: Double, bypass: Bool
    ) {
        guard teams.indices.contains(team) else {
            unattributed.charge(
                succeeded: succeeded, winningUSD: winningUSD, failedUSD: failedUSD, cancelledUSD: cancelledUSD,
                gpuSeconds: gpuSeconds, gpuUSD: gpuUSD, bypass: bypass)
            return
        }
        teams[team].charge(
            succeeded: succeeded, winningUSD: winningUSD, failedUSD: failedUSD, cancelledUSD: cancelledUSD,
            gpuSeconds: gpuSeconds, gpuUSD: gpuUSD, bypass: bypass)
    }
}

extension TeamSpend {
    mutating func charge(
        succeeded: Bool, winningUSD: Double, failedUSD: Double, cancelledUSD: Double, gpuSeconds: Double, gpuUSD: Double, bypass: Bool
    ) {
        if bypass {
            bypassUSD += winningUSD + failedUSD + cancelledUSD + gpuUSD
            return
        }
        if succeeded {
            successfulUSD += winningUSD
            retriedUSD += failedUSD
        } else {
            wastedUSD += failedUSD
        }
        wastedUSD += cancelledUSD
        fallbackGPUSeconds += gpuSeconds
        fallbackUSD += gpuUSD
    }

    /// Adds `other`'s five amounts (and GPU-seconds) to these.
    public mutating func add(_ other: TeamSpend) {
        successfulUSD += other.successfulUSD
        retriedUSD += other.retriedUSD
        wastedUSD += other.wastedUSD
        fallbackGPUSeconds += other.fallbackGPUSeconds
        fallbackUSD += other.fallbackUSD
        bypassUSD += other.bypassUSD
    }

    mutating func subtract(_ before: TeamSpend) {
        successfulUSD -= before.successfulUSD
        retriedUSD -= before.retriedUSD
        wastedUSD -= before.wastedUSD
        fallbackGPUSeconds -= before.fallbackGPUSeconds
        fallbackUSD -= before.fallbackUSD
        bypassUSD -= before.bypassUSD
    }
}

/// The spend of one budget in its current period, with what in-flight attempts have reserved.
struct BudgetState: Sendable {
    let config: BudgetConfig
    /// The number of the period the spend belongs to (nil until the first roll).
    var period: Int64?
    var spentUSD: Double = 0
    var reservedUSD: Double = 0
    /// With the budget shared by replicas (leases): what this replica holds of the period's
    /// limit, the slices granted to it (nil: not shared; the limit is the config's).
    var leasedUSD: Double?
    /// A slice of the next period granted ahead: the period, and its amount.
    var nextLease: (period: Int64, usd: Double)?
    /// Shared: the largest amount this replica's holding was found too small for since the last
    /// slice came (a request's worst case can be more than a slice).
    var wantedUSD = 0.0

    init(_ config: BudgetConfig) {
        self.config = config
    }

    /// Moves to the period containing the wall-clock time `unixNanoseconds`; spend starts
    /// again in a new period (reservations are for attempts in flight and stay), and so does a
    /// holding: with what was granted ahead for it, or nothing.
    mutating func roll(toUnixNanoseconds unixNanoseconds: Int64) {
        let current = config.period.number(atUnixNanoseconds: unixNanoseconds)
        if current != period {
            if period != nil { spentUSD = 0 }
            period = current
            if leasedUSD != nil {
                leasedUSD = nextLease?.period == current ? nextLease!.usd : 0
                nextLease = nil
            }
        }
    }

    /// Whether `amount` more could be committed without exceeding the limit (or, shared,
    /// what this replica holds).
    mutating func fits(_ amount: Double, atUnixNanoseconds unixNanoseconds: Int64) -> Bool {
        roll(toUnixNanoseconds: unixNanoseconds)
        guard let leasedUSD else { return spentUSD + reservedUSD + amount <= config.limitUSD + 1e-12 }
        if spentUSD + reservedUSD + amount <= leasedUSD + 1e-12 { return true }
        wantedUSD = max(wantedUSD, amount)
        return false
    }
}
