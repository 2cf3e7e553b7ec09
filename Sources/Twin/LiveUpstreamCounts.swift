/// What a live upstream did, for the twin's report.
public struct LiveUpstreamCounts: Sendable, Equatable {
    public var attempts = 0
    public var served = 0
    public var refused = 0
    public var maxBusy = 0
    public var maxQueued = 0
    public var maxReplicas = 0
}
