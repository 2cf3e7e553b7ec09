/// How `brownout size-fallback` walks the pool sizes to the smallest that meets the SLOs,
/// assuming, as any such search must, that a larger pool never does worse.
///
/// A size is judged at its first look (``SequentialLooks``) or thoroughly (as many looks as it
/// takes; a size still inconclusive at the last look has not been shown to meet the SLOs, so
/// it misses them). A size that meets them is usually shown to at its first look; one that
/// misses them narrowly stays inconclusive until the last, the search's dearest judgement. So
/// the search gallops up from the pool's current size on first looks alone (1, 2, 4, … from
/// there) to the first size shown to meet them, then bisects below it on thorough judgements:
/// only the sizes the bisection needs are judged thoroughly. Size 0 (no pool at all), when it
/// may be considered, is judged only if 1 meets the SLOs.
public enum SizeSearch {
    /// The smallest size in `lowest`...`limit` (`lowest` 0 or 1) that meets the SLOs, nil when
    /// none does; `start` (at least 1): where the gallop begins. `judge(size, thorough)`: true
    /// if the size meets them, false if it misses them, nil if its first look leaves it open
    /// (never when `thorough`).
    public static func smallest<Failure: Error>(
        start: Int, lowest: Int = 1, limit: Int,
        judge: (_ size: Int, _ thorough: Bool) throws(Failure) -> Bool?
    ) throws(Failure) -> Int? {
        precondition(lowest == 0 || lowest == 1, "SizeSearch: sizes start at 0 or 1")
        guard limit >= 1 else { return nil }
        // Every size up to `missed` misses the SLOs; `met` meets them.
        var missed = 0
        var met: Int?
        var size = max(1, min(start, limit))
        while met == nil {
            switch try judge(size, false) {
            case true?: met = size
            case false?: missed = size
            case nil: break
            }
            if met != nil || size == limit { break }
            size = min(limit, size * 2)
        }
        if met == nil {
            // No first look showed a size meeting them: the largest allowed, thoroughly.
            guard missed < limit, try judge(limit, true) == true else { return nil }
            met = limit
        }
        var high = met!
        // The gallop may have begun above 1: sizes below its start are bisected too, down to 1.
        while high - missed > 1 {
            let middle = (missed + high) / 2
            if try judge(middle, true) == true { high = middle } else { missed = middle }
        }
        // No pool at all, once 1 replica is known to meet them.
        if high == 1 && lowest == 0, try judge(0, true) == true { return 0 }
        return high
    }
}
