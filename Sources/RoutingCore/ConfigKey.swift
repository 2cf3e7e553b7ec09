/// A coding key that is any name: the entries of a map whose keys are names the user chose
/// (providers, routes, teams), read in the order they were written.
public struct ConfigKey: CodingKey, Hashable, Sendable {
    public let stringValue: String
    public let intValue: Int?

    public init(_ name: String) {
        stringValue = name
        intValue = nil
    }

    public init?(stringValue: String) { self.init(stringValue) }

    public init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// The key this value is written under: a provider's, route's or team's name.
    public var entryName: String { codingPath.last?.stringValue ?? "" }
}

extension CodingUserInfoKey {
    /// The file a value was read from, when the decoder knows it (the config schema's does):
    /// relative file names in a config are relative to it.
    public static let configSourceFile = CodingUserInfoKey(rawValue: "configSourceFile")!
}

/// Key paths as a user writes them: `routes.chat.chain[0]`.
public enum ConfigPath {
    public static func text(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue { text += "[\(index)]" } else { text = joined(text, key.stringValue) }
        }
        return text
    }

    public static func joined(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
