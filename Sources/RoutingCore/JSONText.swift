/// JSON written by hand where it is written per request (decision records, traces, error
/// bodies): strings escaped as JSONEncoder escapes them (`"`, `\\`, the named control
/// characters, other control characters as `\u00XX`; `/` and non-ASCII as they are).
public enum JSONText {
    /// `text` as a JSON string, quotes included.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            case "\u{0}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A string, or `null`.
    public static func quotedOrNull(_ text: String?) -> String {
        text.map(quoted) ?? "null"
    }
}
