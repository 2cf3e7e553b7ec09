import Testing
import SimulationKernel
import Stochastics

@Suite("Integer-keyed table")
struct IntegerKeyTableTests {
    /// Random inserts, replacements, in-place changes and removals, checked step by step
    /// against `Dictionary`. Keys come from a small range (collisions and long probe runs
    /// are common) and from clustered request-id-like values; both are exercised.
    @Test("behaves like a Dictionary under random operations", arguments: [UInt64(300), UInt64(1) << 40])
    func matchesDictionary(keySpread: UInt64) {
        var table = IntegerKeyTable<Int>()
        var reference: [UInt64: Int] = [:]
        let stream = RandomStream(name: "table", seed: 7, replication: 0)
        for step in 0..<200_000 {
            let key: UInt64 =
                keySpread > 1_000
                ? (UInt64(stream.uniformInteger(below: 3)) << 40) | UInt64(stream.uniformInteger(below: 2_000))
                : UInt64(stream.uniformInteger(below: Int(keySpread)))
            switch stream.uniformInteger(below: 4) {
            case 0, 1:
                table.insert(step, forKey: key)
                reference[key] = step
            case 2:
                let removed = table.removeValue(forKey: key)
                #expect(removed == reference.removeValue(forKey: key))
            default:
                let changed = table.modify(key) { value -> Int in
                    value += 1
                    return value
                }
                if reference[key] != nil { reference[key]! += 1 }
                #expect(changed == reference[key])
            }
            let count = table.count
            #expect(count == reference.count)
        }
        for (key, value) in reference {
            let stored = table[key]
            #expect(stored == value)
        }
        let values = table.storedValues.sorted()
        #expect(values == reference.values.sorted())
    }

    @Test("removing every entry leaves an empty table that still works")
    func drainsAndRefills() {
        var table = IntegerKeyTable<String>()
        for key in 0..<1_000 as Range<UInt64> { table[key * 7_919] = "\(key)" }
        for key in 0..<1_000 as Range<UInt64> {
            let removed = table.removeValue(forKey: key * 7_919)
            #expect(removed == "\(key)")
        }
        let empty = table.isEmpty
        let missing = table[0]
        #expect(empty && missing == nil)
        table[42] = "again"
        let again = table[42]
        let count = table.count
        #expect(again == "again" && count == 1)
    }

    /// Values that own memory are destroyed exactly once: on removal, on replacement and
    /// when the table goes away (a leak or a double free would show in the count).
    @Test("values are destroyed exactly once")
    func destroysValuesOnce() {
        let counter = LiveCounter()
        do {
            var table = IntegerKeyTable<Tracked>()
            for key in 0..<500 as Range<UInt64> { table.insert(Tracked(counter), forKey: key) }
            for key in 0..<100 as Range<UInt64> { table.remove(key) }
            for key in 100..<200 as Range<UInt64> { table.insert(Tracked(counter), forKey: key) }
            let alive = counter.alive
            #expect(alive == 400)
        }
        #expect(counter.alive == 0)
    }
}

private final class LiveCounter: @unchecked Sendable {
    var alive = 0
}

private final class Tracked {
    let counter: LiveCounter
    init(_ counter: LiveCounter) {
        self.counter = counter
        counter.alive += 1
    }
    deinit { counter.alive -= 1 }
}
