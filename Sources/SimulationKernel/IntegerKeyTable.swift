/// A hash table from 64-bit integer keys to values, for the entities a simulation keeps
/// while they are in flight (requests at the gateway, attempts at a provider).
///
/// Open addressing with linear probing and a multiplicative (Fibonacci) hash: one multiply
/// per lookup instead of `Dictionary`'s SipHash. The probed slots hold only keys and the
/// place of each value; the values live in a separate store, each where it was put until it
/// is removed, and are changed there with ``modify(_:_:)`` — never copied out and written
/// back, never moved when the table grows or another entry leaves, which matters for the
/// gateway's few-hundred-byte request state. Removal shifts the following slots back (a key
/// and a place each), so there are no tombstones and a long run never degrades. Nothing
/// about it is random: its order, and anything derived from it, is the same in every
/// process. Capacity grows with the peak number of entries and is then reused.
///
/// The table owns its storage and cannot be copied (one owner: the actor whose state it is).
public struct IntegerKeyTable<Value>: ~Copyable {
    /// The probed slots: a key, or ``reservedKey`` for an empty slot.
    @usableFromInline
    internal var keys: UnsafeMutablePointer<UInt64>
    /// For each slot holding a key, where its value is in ``values``.
    @usableFromInline
    internal var places: UnsafeMutablePointer<Int32>
    @usableFromInline
    internal var capacity: Int
    @usableFromInline
    internal var shift: UInt64
    @usableFromInline
    internal var storedCount = 0
    /// The values, initialized exactly at the places some slot names.
    @usableFromInline
    internal var values: UnsafeMutablePointer<Value>
    @usableFromInline
    internal var valueCapacity: Int
    /// The places not in use, a stack: `free[0..<freeCount]`.
    @usableFromInline
    internal var free: UnsafeMutablePointer<Int32>
    @usableFromInline
    internal var freeCount: Int

    /// The number of entries.
    @inlinable
    public var count: Int { storedCount }

    /// The key no entry can have: it marks empty slots.
    @inlinable
    public static var reservedKey: UInt64 { UInt64.max }

    public init() {
        capacity = 16
        shift = 64 - 4
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.reservedKey, count: capacity)
        places = .allocate(capacity: capacity)
        valueCapacity = 8
        values = .allocate(capacity: valueCapacity)
        free = .allocate(capacity: valueCapacity)
        freeCount = 0
        Self.pushFree(0..<valueCapacity, into: free, count: &freeCount)
    }

    deinit {
        for index in 0..<capacity where keys[index] != Self.reservedKey {
            (values + Int(places[index])).deinitialize(count: 1)
        }
        keys.deallocate()
        places.deallocate()
        values.deallocate()
        free.deallocate()
    }

    @inlinable
    public var isEmpty: Bool { storedCount == 0 }

    @inlinable
    internal var mask: Int { capacity - 1 }

    @inlinable
    internal func home(of key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot holding `key`, or nil.
    @inlinable
    internal func slot(of key: UInt64) -> Int? {
        var index = home(of: key)
        while true {
            let found = keys[index]
            if found == key { return index }
            if found == Self.reservedKey { return nil }
            index = (index + 1) & mask
        }
    }

    /// Where the value of the key in slot `index` is.
    @inlinable
    internal func value(inSlot index: Int) -> UnsafeMutablePointer<Value> {
        values + Int(places[index])
    }

    /// The value stored under `key`; setting nil removes it.
    @inlinable
    public subscript(key: UInt64) -> Value? {
        get {
            guard let index = slot(of: key) else { return nil }
            return value(inSlot: index).pointee
        }
        set {
            if let newValue {
                insert(newValue, forKey: key)
            } else {
                remove(key)
            }
        }
    }

    /// Runs `body` on the value stored under `key`, in place; nil when there is none.
    @inlinable
    public mutating func modify<Result>(_ key: UInt64, _ body: (inout Value) throws -> Result) rethrows -> Result? {
        guard let index = slot(of: key) else { return nil }
        return try body(&value(inSlot: index).pointee)
    }

    /// Stores `value` under `key`, replacing any value there.
    @inlinable
    public mutating func insert(_ value: consuming Value, forKey key: UInt64) {
        precondition(key != Self.reservedKey, "IntegerKeyTable: the key UInt64.max is reserved")
        var index = home(of: key)
        while true {
            let found = keys[index]
            if found == key {
                self.value(inSlot: index).pointee = value
                return
            }
            if found == Self.reservedKey { break }
            index = (index + 1) & mask
        }
        if freeCount == 0 { growValues() }
        freeCount -= 1
        let place = free[freeCount]
        (values + Int(place)).initialize(to: value)
        keys[index] = key
        places[index] = place
        storedCount += 1
        if storedCount * 2 > capacity { grow() }
    }

    /// Removes and returns the value under `key`, or nil when there is none.
    @inlinable
    @discardableResult
    public mutating func removeValue(forKey key: UInt64) -> Value? {
        guard let index = slot(of: key) else { return nil }
        let removed = value(inSlot: index).move()
        vacate(index)
        return removed
    }

    /// Removes the entry under `key`, destroying its value in place (a large value is not
    /// copied out as ``removeValue(forKey:)`` must); returns whether there was one.
    @inlinable
    @discardableResult
    public mutating func remove(_ key: UInt64) -> Bool {
        guard let index = slot(of: key) else { return false }
        value(inSlot: index).deinitialize(count: 1)
        vacate(index)
        return true
    }

    /// Frees slot `index` and its place, whose value is already gone.
    @inlinable
    internal mutating func vacate(_ index: Int) {
        free[freeCount] = places[index]
        freeCount += 1
        var hole = index
        keys[hole] = Self.reservedKey
        storedCount -= 1
        // Backward-shift deletion: move later members of the probe run into the hole
        // when their home slot lies at or before it (cyclically), so lookups never stop early.
        var next = (hole + 1) & mask
        while keys[next] != Self.reservedKey {
            let wanted = home(of: keys[next])
            if (hole - wanted) & mask < (next - wanted) & mask {
                keys[hole] = keys[next]
                places[hole] = places[next]
                keys[next] = Self.reservedKey
                hole = next
            }
            next = (next + 1) & mask
        }
    }

    /// The stored keys, in slot order (the same in every process).
    public var storedKeys: [UInt64] {
        (0..<capacity).compactMap { keys[$0] == Self.reservedKey ? nil : keys[$0] }
    }

    /// The stored values, in slot order (the same in every process).
    public var storedValues: [Value] {
        (0..<capacity).compactMap { keys[$0] == Self.reservedKey ? nil : value(inSlot: $0).pointee }
    }

    /// Twice the slots, every key probed into place again; the values stay where they are.
    @usableFromInline
    internal mutating func grow() {
        let oldKeys = keys
        let oldPlaces = places
        let oldCapacity = capacity
        capacity *= 2
        shift -= 1
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.reservedKey, count: capacity)
        places = .allocate(capacity: capacity)
        for old in 0..<oldCapacity where oldKeys[old] != Self.reservedKey {
            var index = home(of: oldKeys[old])
            while keys[index] != Self.reservedKey { index = (index + 1) & mask }
            keys[index] = oldKeys[old]
            places[index] = oldPlaces[old]
        }
        oldKeys.deallocate()
        oldPlaces.deallocate()
    }

    /// Twice the places for values, when every one is in use: the values move once, to the
    /// new store, at the places they had.
    @usableFromInline
    internal mutating func growValues() {
        precondition(valueCapacity < Int(Int32.max) / 2, "IntegerKeyTable: more entries than an Int32 can place")
        let oldValues = values
        let oldCapacity = valueCapacity
        valueCapacity *= 2
        values = .allocate(capacity: valueCapacity)
        values.moveInitialize(from: oldValues, count: oldCapacity)
        oldValues.deallocate()
        free.deallocate()
        free = .allocate(capacity: valueCapacity)
        freeCount = 0
        Self.pushFree(oldCapacity..<valueCapacity, into: free, count: &freeCount)
    }

    /// Pushes `range`'s places on the free stack, the lowest last (so it is taken first).
    @usableFromInline
    internal static func pushFree(_ range: Range<Int>, into free: UnsafeMutablePointer<Int32>, count: inout Int) {
        for place in range.reversed() {
            free[count] = Int32(place)
            count += 1
        }
    }
}

extension IntegerKeyTable: @unchecked Sendable where Value: Sendable {}
