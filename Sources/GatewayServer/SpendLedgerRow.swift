import RoutingCore

/// One row of the spend ledger: a request's settlement (part 0: when it completed, failed or
/// was refused) or what a result that came after its end added (part 1, 2, …: a hedge's
/// loser). The ledger keeps one row per (replica, boot, request, part): rows shipped twice are
/// stored once. Amounts are the router's chargeback categories (``RoutingCore/TeamSpend``).
struct SpendLedgerRow: Sendable, Equatable {
    /// The router's calendar when it settled, in Unix nanoseconds.
    var settledUnixNanoseconds: Int64
    /// This gateway process (a random number drawn at start): request ids restart with it.
    var boot: Int64
    var requestID: Int64
    var part: Int16
    var team: String?
    var key: String?
    /// The route in force (a budget may have switched it).
    var route: String
    /// The upstream whose answer the client got (nil when none did).
    var upstream: String?
    /// `complete`, `fail`, `reject`, or `late` for what a result after the end added.
    var outcome: String
    var attempts: Int32
    var inputTokens: Int32
    var outputTokens: Int32
    var spend: TeamSpend
    /// Answered by a local pool: served degraded.
    var degraded: Bool
}
