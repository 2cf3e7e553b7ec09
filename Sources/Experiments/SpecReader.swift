import Foundation

/// Reads one map of a spec strictly: every key must be asked for, or it is reported as
/// unknown with the closest valid key suggested.
struct MapReader {
    let path: String
    let location: SpecLocation
    private let entries: [(key: String, keyLocation: SpecLocation, value: SpecValue)]
    private var asked: [String] = []

    init(_ value: SpecValue, path: String) throws(SpecError) {
        guard case .map(let entries, let location) = value else {
            throw SpecError(value.location, path, "must be a map of keys to values")
        }
        self.entries = entries
        self.location = location
        self.path = path
    }

    var keys: [String] { entries.map(\.key) }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func optional(_ key: String) -> SpecValue? {
        asked.append(key)
        return entries.first { $0.key == key }?.value
    }

    mutating func required(_ key: String) throws(SpecError) -> SpecValue {
        guard let value = optional(key) else {
            throw SpecError(location, path, "missing required key '\(key)'")
        }
        return value
    }

    /// Every entry, for maps whose keys are names (providers, teams).
    mutating func named() -> [(name: String, location: SpecLocation, value: SpecValue)] {
        asked.append(contentsOf: keys)
        return entries.map { ($0.key, $0.keyLocation, $0.value) }
    }

    /// Fails on the first key that was never asked for.
    func finish() throws(SpecError) {
        for entry in entries where !asked.contains(entry.key) {
            let valid = Array(Set(asked)).sorted()
            var message = "unknown key '\(entry.key)'"
            if let suggestion = closest(to: entry.key, in: valid) {
                message += "; did you mean '\(suggestion)'? Valid keys: "
            } else {
                message += "; valid keys: "
            }
            message += valid.joined(separator: ", ")
            throw SpecError(entry.keyLocation, child(entry.key), message)
        }
    }

    // MARK: Typed values

    mutating func double(_ key: String, default fallback: Double? = nil, min: Double? = nil, max: Double? = nil, exclusiveMin: Bool = false) throws(SpecError) -> Double {
        guard let value = optional(key) else {
            if let fallback { return fallback }
            throw SpecError(location, path, "missing required key '\(key)'")
        }
        return try SpecScalars.double(value, child(key), min: min, max: max, exclusiveMin: exclusiveMin)
    }

    mutating func optionalDouble(_ key: String, min: Double? = nil, exclusiveMin: Bool = false) throws(SpecError) -> Double? {
        guard let value = optional(key) else { return nil }
        return try SpecScalars.double(value, child(key), min: min, max: nil, exclusiveMin: exclusiveMin)
    }

    mutating func int(_ key: String, default fallback: Int? = nil, min: Int? = nil) throws(SpecError) -> Int {
        guard let value = optional(key) else {
            if let fallback { return fallback }
            throw SpecError(location, path, "missing required key '\(key)'")
        }
        return try SpecScalars.int(value, child(key), min: min)
    }

    mutating func optionalInt(_ key: String, min: Int? = nil) throws(SpecError) -> Int? {
        guard let value = optional(key) else { return nil }
        return try SpecScalars.int(value, child(key), min: min)
    }

    mutating func string(_ key: String, default fallback: String? = nil, oneOf valid: [String]? = nil) throws(SpecError) -> String {
        guard let value = optional(key) else {
            if let fallback { return fallback }
            throw SpecError(location, path, "missing required key '\(key)'")
        }
        return try SpecScalars.string(value, child(key), oneOf: valid)
    }

    mutating func strings(_ key: String) throws(SpecError) -> [String] {
        guard let value = optional(key) else { throw SpecError(location, path, "missing required key '\(key)'") }
        return try SpecScalars.strings(value, child(key))
    }
}

/// Scalar conversions with errors that say what was expected.
enum SpecScalars {
    static func double(_ value: SpecValue, _ path: String, min: Double? = nil, max: Double? = nil, exclusiveMin: Bool = false) throws(SpecError) -> Double {
        guard case .scalar(let text, let location) = value else { throw SpecError(value.location, path, "must be a number") }
        guard let number = Double(text.replacingOccurrences(of: "_", with: "")), number.isFinite else {
            throw SpecError(location, path, "must be a number, got '\(text)'")
        }
        if let min, exclusiveMin ? number <= min : number < min {
            throw SpecError(location, path, "must be \(exclusiveMin ? ">" : "≥") \(format(min)), got \(text)")
        }
        if let max, number > max { throw SpecError(location, path, "must be ≤ \(format(max)), got \(text)") }
        return number
    }

    static func int(_ value: SpecValue, _ path: String, min: Int? = nil) throws(SpecError) -> Int {
        guard case .scalar(let text, let location) = value else { throw SpecError(value.location, path, "must be a whole number") }
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw SpecError(location, path, "must be a whole number, got '\(text)'")
        }
        if let min, number < min { throw SpecError(location, path, "must be ≥ \(min), got \(text)") }
        return number
    }

    static func string(_ value: SpecValue, _ path: String, oneOf valid: [String]? = nil) throws(SpecError) -> String {
        guard case .scalar(let text, let location) = value else { throw SpecError(value.location, path, "must be a single value") }
        if let valid, !valid.contains(text) {
            var message = "'\(text)' is not valid"
            if let suggestion = closest(to: text, in: valid) {
                message += "; did you mean '\(suggestion)'? Valid: "
            } else {
                message += "; valid: "
            }
            throw SpecError(location, path, message + valid.joined(separator: ", "))
        }
        return text
    }

    static func strings(_ value: SpecValue, _ path: String) throws(SpecError) -> [String] {
        guard case .list(let items, _) = value else { throw SpecError(value.location, path, "must be a list") }
        var result: [String] = []
        for (index, item) in items.enumerated() { result.append(try string(item, "\(path)[\(index)]")) }
        return result
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo,
/// or else one sharing most of its beginning (`replicas` → `replications`).
func closest(to word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word, $0)) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
    if let (best, distance) = scored, distance <= max(2, word.count / 3) { return best }
    func sharedPrefix(_ a: String, _ b: String) -> Int { zip(a, b).prefix { $0 == $1 }.count }
    let prefixed = candidates.map { ($0, sharedPrefix(word, $0)) }.max { ($0.1, $1.0) < ($1.1, $0.0) }
    guard let (candidate, length) = prefixed, length >= 4, Double(length) >= 0.6 * Double(min(word.count, candidate.count)) else { return nil }
    return candidate
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
