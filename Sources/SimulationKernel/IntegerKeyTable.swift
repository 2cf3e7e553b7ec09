/// A hash table from 64-bit integer keys to values, for the entities a simulation keeps
/// while they are in flight (requests at the gateway, attempts at a provider).
///
/// Open addressing with linear probing and a multiplicative (Fibonacci) hash: one multiply
/// per lookup instead of `Dictionary`'s SipHash. Values live in place in the table and are
/// changed there with ``modify(_:_:)`` — never copied out and written back, which matters
/// for the gateway's few-hundred-byte request state. Removal shifts the following entries
/// back, so there are no tombstones and a long run never degrades. Nothing about it is
/// random: its order, and anything derived from it, is the same in every process.
/// Capacity grows with the peak number of entries and is then reused.
///
/// The table owns its storage and cannot be copied (one owner: the actor whose state it is).
public struct IntegerKeyTable<Value>: ~Copyable {
    @usableFromInline
    internal var keys: UnsafeMutablePointer<UInt64>
    /// Initialized exactly where `keys` holds a key other than ``reservedKey``.
    @usableFromInline
    internal var values: UnsafeMutablePointer<Value>
    @usableFromInline
    internal var capacity: Int
    @usableFromInline
    internal var shift: UInt64
    @usableFromInline
    internal var storedCount = 0

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
        values = .allocate(capacity: capacity)
    }

    deinit {
        for index in 0..<capacity where keys[index] != Self.reservedKey {
            (values + index).deinitialize(count: 1)
        }
        keys.deallocate()
        values.deallocate()
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

    /// The value stored under `key`; setting nil removes it.
    @inlinable
    public subscript(key: UInt64) -> Value? {
        get {
            guard let index = slot(of: key) else { return nil }
            return values[index]
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
        return try body(&values[index])
    }

    /// Stores `value` under `key`, replacing any value there. Borrowed, not consumed: the
    /// one copy is the store into the table (a consumed value is first copied for the call).
    @inlinable
    public mutating func insert(_ value: borrowing Value, forKey key: UInt64) {
        insert(value, forKey: key) { _ in }
    }

    /// Stores `value` under `key` (replacing any value there), then runs `body` on it where it
    /// is stored: one lookup for a value that changes as soon as it is stored.
    @inlinable
    public mutating func insert<Result>(
        _ value: borrowing Value, forKey key: UInt64, thenModify body: (inout Value) throws -> Result
    ) rethrows -> Result {
        precondition(key != Self.reservedKey, "IntegerKeyTable: the key UInt64.max is reserved")
        var index = home(of: key)
        while true {
            let found = keys[index]
            if found == key {
                values[index] = copy value
                return try body(&values[index])
            }
            if found == Self.reservedKey { break }
            index = (index + 1) & mask
        }
        keys[index] = key
        (values + index).initialize(to: copy value)
        storedCount += 1
        // The table grows after `body` has run: growing moves the values.
        defer { if storedCount * 2 > capacity { grow() } }
        return try body(&values[index])
    }

    /// Removes and returns the value under `key`, or nil when there is none.
    @inlinable
    @discardableResult
    public mutating func removeValue(forKey key: UInt64) -> Value? {
        guard let index = slot(of: key) else { return nil }
        let removed = (values + index).move()
        vacate(index)
        return removed
    }

    /// Removes the value for `key`, after `body` has read what it needs of it in place (a
    /// large value is not moved out to be read); nil when `key` is absent.
    @inlinable
    public mutating func remove<Result>(_ key: UInt64, reading body: (borrowing Value) throws -> Result) rethrows -> Result? {
        guard let index = slot(of: key) else { return nil }
        let result = try body(values[index])
        (values + index).deinitialize(count: 1)
        vacate(index)
        return result
    }

    /// Removes the entry under `key`, destroying its value in place (a large value is not
    /// copied out as ``removeValue(forKey:)`` must); returns whether there was one.
    @inlinable
    @discardableResult
    public mutating func remove(_ key: UInt64) -> Bool {
        guard let index = slot(of: key) else { return false }
        (values + index).deinitialize(count: 1)
        vacate(index)
        return true
    }

    /// Frees slot `index`, whose value is already gone.
    @inlinable
    internal mutating func vacate(_ index: Int) {
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
                (values + hole).moveInitialize(from: values + next, count: 1)
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
        (0..<capacity).compactMap { keys[$0] == Self.reservedKey ? nil : values[$0] }
    }

    @usableFromInline
    internal mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let oldCapacity = capacity
        capacity *= 2
        shift -= 1
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.reservedKey, count: capacity)
        values = .allocate(capacity: capacity)
        for old in 0..<oldCapacity where oldKeys[old] != Self.reservedKey {
            var index = home(of: oldKeys[old])
            while keys[index] != Self.reservedKey { index = (index + 1) & mask }
            keys[index] = oldKeys[old]
            (values + index).moveInitialize(from: oldValues + old, count: 1)
        }
        oldKeys.deallocate()
        oldValues.deallocate()
    }
}

extension IntegerKeyTable: @unchecked Sendable where Value: Sendable {}
