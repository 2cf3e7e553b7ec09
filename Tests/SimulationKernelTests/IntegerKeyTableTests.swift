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
            let key: UInt64 = keySpread > 1_000
                ? (UInt64(stream.uniformInteger(below: 3)) << 40) | UInt64(stream.uniformInteger(below: 2_000))
                : UInt64(stream.uniformInteger(below: Int(keySpread)))
            switch stream.uniformInteger(below: 4) {
            case 0, 1:
                table.insert(step, forKey: key)
                reference[key] = step
            case 2:
                #expect(table.removeValue(forKey: key) == reference.removeValue(forKey: key))
            default:
                let changed = table.modify(key) { value -> Int in
                    value += 1
                    return value
                }
                if reference[key] != nil { reference[key]! += 1 }
                #expect(changed == reference[key])
            }
            #expect(table.count == reference.count)
        }
        for (key, value) in reference {
            #expect(table[key] == value)
        }
        #expect(table.storedValues.sorted() == reference.values.sorted())
    }

    @Test("removing every entry leaves an empty table that still works")
    func drainsAndRefills() {
        var table = IntegerKeyTable<String>()
        for key in 0..<1_000 as Range<UInt64> { table[key * 7_919] = "\(key)" }
        for key in 0..<1_000 as Range<UInt64> { #expect(table.removeValue(forKey: key * 7_919) == "\(key)") }
        #expect(table.isEmpty)
        #expect(table[0] == nil)
        table[42] = "again"
        #expect(table[42] == "again" && table.count == 1)
    }
}
