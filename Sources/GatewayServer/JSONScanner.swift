/// A strict JSON reader (RFC 8259) over raw bytes that validates a whole document but builds
/// nothing: it reports each member of an object as a key and the byte range of its value, and
/// reads a value's string, integer or boolean only when asked. The gateway reads a request's
/// few routing fields and an answer's usage this way and passes every other byte through
/// untouched, instead of building a dictionary of the whole body and writing it out again.
///
/// Strings are checked for control characters and valid escapes; their UTF-8 is checked only
/// when a string is decoded (`string(_:)`), the rest travels upstream as the client sent it.
struct JSONScanner {
    enum Kind: Equatable {
        case object, array, string, number, `true`, `false`, null
    }

    /// A value: its kind and where its bytes are, quotes and brackets included.
    struct Value {
        var kind: Kind
        var range: Range<Int>
    }

    /// A member's key: where its bytes are (without the quotes), and whether it has escapes.
    struct Key {
        var range: Range<Int>
        var hasEscapes: Bool
    }

    /// Where a document stops being JSON.
    struct Malformed: Error {
        var offset: Int
        var reason: String
    }

    static let maximumDepth = 512

    let bytes: UnsafeRawBufferPointer
    private var index = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Checks that `bytes` are one JSON object (surrounding whitespace allowed) and returns
    /// the scanner and the object, to read its members.
    static func object(in bytes: UnsafeRawBufferPointer) throws(Malformed) -> (JSONScanner, Value) {
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        guard scanner.peek == UInt8(ascii: "{") else { throw Malformed(offset: scanner.index, reason: "expected an object") }
        let object = try scanner.value(depth: 0)
        scanner.skipWhitespace()
        guard scanner.index == bytes.count else { throw Malformed(offset: scanner.index, reason: "unexpected bytes after the object") }
        return (scanner, object)
    }

    /// Calls `member` for each member of an object this scanner has validated, in order.
    func forEachMember(of object: Value, _ member: (Key, Value) throws(Malformed) -> Void) throws(Malformed) {
        precondition(object.kind == .object)
        var scanner = self
        scanner.index = object.range.lowerBound + 1
        scanner.skipWhitespace()
        if scanner.peek == UInt8(ascii: "}") { return }
        while true {
            scanner.skipWhitespace()
            let keyValue = try scanner.scanString()
            let key = Key(
                range: keyValue.range.lowerBound + 1..<keyValue.range.upperBound - 1,
                hasEscapes: bytes[keyValue.range].contains(UInt8(ascii: "\\")))
            scanner.skipWhitespace()
            scanner.index += 1  // the colon
            scanner.skipWhitespace()
            try member(key, try scanner.value(depth: 1))
            scanner.skipWhitespace()
            if scanner.peek == UInt8(ascii: "}") { return }
            scanner.index += 1  // the comma
        }
    }

    /// Calls `element` for each element of an array this scanner has validated, in order.
    func forEachElement(of array: Value, _ element: (Value) throws(Malformed) -> Void) throws(Malformed) {
        precondition(array.kind == .array)
        var scanner = self
        scanner.index = array.range.lowerBound + 1
        scanner.skipWhitespace()
        if scanner.peek == UInt8(ascii: "]") { return }
        while true {
            scanner.skipWhitespace()
            try element(try scanner.value(depth: 1))
            scanner.skipWhitespace()
            if scanner.peek == UInt8(ascii: "]") { return }
            scanner.index += 1
        }
    }

    /// The value of the last member of `object` named `name` (nil when `object` is not an
    /// object, or has no such member, or is malformed past it).
    func member(_ name: StaticString, of object: Value) -> Value? {
        guard object.kind == .object else { return nil }
        var found: Value?
        try? forEachMember(of: object) { key, value in
            if self.key(key, is: name) { found = value }
        }
        return found
    }

    /// Whether `key` is `name` (compared as decoded text when the key has escapes).
    func key(_ key: Key, is name: StaticString) -> Bool {
        if key.hasEscapes {
            return (try? string(Value(kind: .string, range: key.range.lowerBound - 1..<key.range.upperBound + 1))) == name.description
        }
        guard key.range.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { name in
            for offset in 0..<name.count where bytes[key.range.lowerBound + offset] != name[offset] { return false }
            return true
        }
    }

    /// Whether an array or object has no elements.
    func isEmpty(_ value: Value) -> Bool {
        var scanner = self
        scanner.index = value.range.lowerBound + 1
        scanner.skipWhitespace()
        return scanner.index == value.range.upperBound - 1
    }

    /// A string value's text, escapes decoded; malformed if it is not valid UTF-8 or has a
    /// lone surrogate.
    func string(_ value: Value) throws(Malformed) -> String {
        precondition(value.kind == .string)
        let inner = value.range.lowerBound + 1..<value.range.upperBound - 1
        var utf8: [UInt8] = []
        utf8.reserveCapacity(inner.count)
        var i = inner.lowerBound
        while i < inner.upperBound {
            let byte = bytes[i]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                i += 1
                continue
            }
            let escape = bytes[i + 1]
            i += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            default:  // u, validated when scanned
                var scalar = hex4(at: i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= inner.upperBound, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(at: i + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Malformed(offset: i, reason: "a lone surrogate in a string") }
                utf8.append(contentsOf: String(unicode).utf8)
            }
        }
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw Malformed(offset: inner.lowerBound, reason: "a string that is not UTF-8")
        }
        return text
    }

    /// A number value as an integer, or nil when it has a fraction, an exponent or does not fit.
    /// A string value exactly as written, quotes and escapes included (nil for any other kind):
    /// what a translation copies into another JSON document without decoding it.
    func literal(_ value: Value?) -> String? {
        guard let value, value.kind == .string else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[value.range]), as: UTF8.self)
    }

    func integer(_ value: Value) -> Int? {
        guard value.kind == .number else { return nil }
        var i = value.range.lowerBound
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var result = 0
        while i < value.range.upperBound {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, o1) = result.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(negative ? -Int(digit) : Int(digit))
            if o1 || o2 { return nil }
            result = sum
            i += 1
        }
        return result
    }

    // MARK: Scanning

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Malformed) -> Value {
        guard depth < Self.maximumDepth else { throw Malformed(offset: index, reason: "nested more than \(Self.maximumDepth) deep") }
        guard let byte = peek else { throw Malformed(offset: index, reason: "unexpected end") }
        let start = index
        switch byte {
        case UInt8(ascii: "{"):
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return Value(kind: .object, range: start..<index)
            }
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\"") else { throw Malformed(offset: index, reason: "expected a key") }
                _ = try scanString()
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { throw Malformed(offset: index, reason: "expected ':'") }
                index += 1
                skipWhitespace()
                _ = try value(depth: depth + 1)
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return Value(kind: .object, range: start..<index)
                default: throw Malformed(offset: index, reason: "expected ',' or '}'")
                }
            }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return Value(kind: .array, range: start..<index)
            }
            while true {
                skipWhitespace()
                _ = try value(depth: depth + 1)
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return Value(kind: .array, range: start..<index)
                default: throw Malformed(offset: index, reason: "expected ',' or ']'")
                }
            }
        case UInt8(ascii: "\""):
            return try scanString()
        case UInt8(ascii: "t"):
            try literal("true")
            return Value(kind: .true, range: start..<index)
        case UInt8(ascii: "f"):
            try literal("false")
            return Value(kind: .false, range: start..<index)
        case UInt8(ascii: "n"):
            try literal("null")
            return Value(kind: .null, range: start..<index)
        default:
            try scanNumber()
            return Value(kind: .number, range: start..<index)
        }
    }

    private mutating func literal(_ word: StaticString) throws(Malformed) {
        let matches = word.withUTF8Buffer { word in
            guard index + word.count <= bytes.count else { return false }
            for offset in 0..<word.count where bytes[index + offset] != word[offset] { return false }
            return true
        }
        guard matches else { throw Malformed(offset: index, reason: "expected \(word)") }
        index += word.utf8CodeUnitCount
    }

    private mutating func scanString() throws(Malformed) -> Value {
        let start = index
        guard peek == UInt8(ascii: "\"") else { throw Malformed(offset: index, reason: "expected a string") }
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return Value(kind: .string, range: start..<index)
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { throw Malformed(offset: start, reason: "an unterminated string") }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    guard index + 6 <= bytes.count, (2..<6).allSatisfy({ Self.hexValue(bytes[index + $0]) != nil }) else {
                        throw Malformed(offset: index, reason: "a bad \\u escape")
                    }
                    index += 6
                default:
                    throw Malformed(offset: index, reason: "a bad escape")
                }
            case 0..<0x20:
                throw Malformed(offset: index, reason: "a control character in a string")
            default:
                index += 1
            }
        }
        throw Malformed(offset: start, reason: "an unterminated string")
    }

    private mutating func scanNumber() throws(Malformed) {
        let start = index
        func digits() -> Int {
            let from = index
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
            return index - from
        }
        if peek == UInt8(ascii: "-") { index += 1 }
        let first = peek
        let count = digits()
        guard count > 0, first != UInt8(ascii: "0") || count == 1 else { throw Malformed(offset: start, reason: "a bad number") }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw Malformed(offset: start, reason: "a bad number") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw Malformed(offset: start, reason: "a bad number") }
        }
    }

    private func hex4(at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 << 4 | UInt32(Self.hexValue(bytes[offset + $1])!) }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
