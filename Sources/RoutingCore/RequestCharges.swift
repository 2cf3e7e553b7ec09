/// One request's attempts as the ledger charges them (``RequestState/charges``): frontier
/// costs of the attempt that answered, of the attempts that failed and of the ones cancelled or
/// lost, and the local pools' GPU time and its price.
public struct RequestCharges: Sendable, Equatable {
    public var winningUSD: Double
    public var failedUSD: Double
    public var cancelledUSD: Double
    public var gpuSeconds: Double
    public var gpuUSD: Double

    public init(winningUSD: Double = 0, failedUSD: Double = 0, cancelledUSD: Double = 0, gpuSeconds: Double = 0, gpuUSD: Double = 0) {
        self.winningUSD = winningUSD
        self.failedUSD = failedUSD
        self.cancelledUSD = cancelledUSD
        self.gpuSeconds = gpuSeconds
        self.gpuUSD = gpuUSD
    }

    /// The charges in the ledger's categories (``TeamSpend``), as the router settles them:
    /// `succeeded` says whether the request's answer was delivered.
    public func spend(succeeded: Bool, bypass: Bool) -> TeamSpend {
        var spend = TeamSpend()
        spend.charge(
            succeeded: succeeded, winningUSD: winningUSD, failedUSD: failedUSD, cancelledUSD: cancelledUSD, gpuSeconds: gpuSeconds,
            gpuUSD: gpuUSD, bypass: bypass)
        return spend
    }

    /// What was charged since `earlier`, a reading of the same request's charges.
    public func subtracting(_ earlier: RequestCharges) -> RequestCharges {
        RequestCharges(
            winningUSD: winningUSD - earlier.winningUSD, failedUSD: failedUSD - earlier.failedUSD,
            cancelledUSD: cancelledUSD - earlier.cancelledUSD, gpuSeconds: gpuSeconds - earlier.gpuSeconds, gpuUSD: gpuUSD - earlier.gpuUSD)
    }
}
