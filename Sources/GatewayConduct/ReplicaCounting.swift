/// How replicas that share rate limits count each other (`deployment.state: postgres`): each
/// marks itself alive every ``beatSeconds`` and counts the replicas marked in the last
/// ``windowSeconds``, enforcing 1/N of every limit. A replica that stops removes its mark; one
/// that dies is counted out when its mark goes stale. The live gateway's membership service
/// and the simulated replicas keep time by these.
public enum ReplicaCounting {
    public static let beatSeconds: Int64 = 1
    public static let windowSeconds: Int64 = 5
}
