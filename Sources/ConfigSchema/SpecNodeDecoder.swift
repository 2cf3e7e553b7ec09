import RoutingCore

/// The `Decoder` over one node of a spec. Type errors are `DecodingError`s (so a type can try
/// one shape and then another); ``SpecDecoder`` turns them into located messages.
struct SpecNodeDecoder: Decoder {
    let node: SpecNode
    let codingPath: [any CodingKey]

    var userInfo: [CodingUserInfoKey: Any] { [.configSourceFile: node.location.file] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .map(let entries) = node.content else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "must be a map of keys to values"))
        }
        node.opened = true
        if let declared = type as? any CaseIterable.Type { node.declaredKeys.formUnion(Self.names(declared)) }
        return KeyedDecodingContainer(SpecKeyedContainer<Key>(node: node, entries: entries, codingPath: codingPath))
    }

    /// The keys a `CaseIterable` coding-key type declares.
    private static func names<T: CaseIterable>(_ type: T.Type) -> [String] {
        T.allCases.compactMap { ($0 as? any CodingKey)?.stringValue }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .list(let items) = node.content else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "must be a list"))
        }
        return SpecUnkeyedContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SpecSingleValueContainer(node: node, codingPath: codingPath)
    }
}

struct SpecKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let node: SpecNode
    let entries: [(key: String, keyLocation: SpecLocation, node: SpecNode)]
    let codingPath: [any CodingKey]

    /// Every key, in the order written (reading them counts as asking for them all: this is
    /// how a map of names is read).
    var allKeys: [Key] {
        node.askedKeys.formUnion(entries.map(\.key))
        return entries.compactMap { Key(stringValue: $0.key) }
    }

    func contains(_ key: Key) -> Bool {
        node.askedKeys.insert(key.stringValue)
        return entries.contains { $0.key == key.stringValue }
    }

    private func child(_ key: Key) throws -> SpecNode {
        node.askedKeys.insert(key.stringValue)
        guard let child = entries.first(where: { $0.key == key.stringValue })?.node else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing required key '\(key.stringValue)'"))
        }
        return child
    }

    private func decoder(_ key: Key) throws -> SpecNodeDecoder {
        SpecNodeDecoder(node: try child(key), codingPath: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        SpecSingleValueContainer(node: try child(key), codingPath: codingPath + [key]).decodeNil()
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let decoder = try decoder(key)
        return try SpecSingleValueContainer(node: decoder.node, codingPath: decoder.codingPath).decode(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        SpecNodeDecoder(node: node, codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try decoder(key)
    }
}

struct SpecUnkeyedContainer: UnkeyedDecodingContainer {
    let items: [SpecNode]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(items: [SpecNode], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> SpecNodeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "has too few items"))
        }
        defer { currentIndex += 1 }
        return SpecNodeDecoder(node: items[currentIndex], codingPath: codingPath + [ConfigKey(intValue: currentIndex)!])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if SpecSingleValueContainer(node: items[currentIndex], codingPath: codingPath).decodeNil() {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = try next()
        return try SpecSingleValueContainer(node: decoder.node, codingPath: decoder.codingPath).decode(T.self)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try next()
    }
}

/// Scalars: numbers (`1_000` allowed), whole numbers, `true`/`false`, text; `null` or `~` is nil.
struct SpecSingleValueContainer: SingleValueDecodingContainer {
    let node: SpecNode
    let codingPath: [any CodingKey]

    private func text(_ expected: String) throws -> String {
        guard case .scalar(let text) = node.content else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: codingPath, debugDescription: "must be \(expected)"))
        }
        return text
    }

    func decodeNil() -> Bool {
        guard case .scalar(let text) = node.content else { return false }
        return text == "null" || text == "~"
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        switch try text("true or false") {
        case "true": return true
        case "false": return false
        case let other: throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "must be true or false, got '\(other)'"))
        }
    }

    func decode(_ type: String.Type) throws -> String { try text("a single value") }

    func decode(_ type: Double.Type) throws -> Double {
        let text = try text("a number")
        guard let number = Double(text.filter { $0 != "_" }), number.isFinite else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "must be a number, got '\(text)'"))
        }
        return number
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func whole<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let text = try text("a whole number")
        guard let number = T(text.filter { $0 != "_" }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "must be a whole number, got '\(text)'"))
        }
        return number
    }

    func decode(_ type: Int.Type) throws -> Int { try whole(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try whole(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try whole(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try whole(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try whole(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try whole(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try whole(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try whole(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try whole(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try whole(UInt64.self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is Bool.Type: return try decode(Bool.self) as! T
        case is String.Type: return try decode(String.self) as! T
        case is Double.Type: return try decode(Double.self) as! T
        case is Int.Type: return try decode(Int.self) as! T
        case is Int64.Type: return try decode(Int64.self) as! T
        case is UInt64.Type: return try decode(UInt64.self) as! T
        default: return try T(from: SpecNodeDecoder(node: node, codingPath: codingPath))
        }
    }
}
