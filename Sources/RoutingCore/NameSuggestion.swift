/// "Did you mean …?" for names a user typed: a setting's key, a kind, a target, a team.
public enum NameSuggestion {
    /// The candidate closest to `word` by edit distance, if it is close enough to be a typo,
    /// or else one sharing most of its beginning (`replicas` → `replications`).
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        if let (best, distance) = scored, distance <= max(2, word.count / 3) { return best }
        func sharedPrefix(_ a: String, _ b: String) -> Int { zip(a, b).prefix { $0 == $1 }.count }
        let prefixed = candidates.map { ($0, sharedPrefix(word, $0)) }.max { ($0.1, $1.0) < ($1.1, $0.0) }
        guard let (candidate, length) = prefixed, length >= 4, Double(length) >= 0.6 * Double(min(word.count, candidate.count)) else { return nil }
        return candidate
    }

    /// "unknown WHAT 'word'; did you mean 'x'? LABEL: a, b, c" (the suggestion only when one is close).
    public static func unknown(_ what: String, _ word: String, in candidates: [String], label: String) -> String {
        var message = "unknown \(what) '\(word)'"
        if let suggestion = closest(to: word, in: candidates) { message += "; did you mean '\(suggestion)'?" }
        return message + (message.hasSuffix("?") ? " " : "; ") + "\(label): \(candidates.joined(separator: ", "))"
    }

    /// Levenshtein distance.
    public static func editDistance(_ a: String, _ b: String) -> Int {
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
}
