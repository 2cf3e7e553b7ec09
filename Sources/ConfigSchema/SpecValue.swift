import Foundation
import RoutingCore
import Yams

/// Where a value of a spec came from: file, line and column (1-based), or a `--set` override.
public struct SpecLocation: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int

    public var description: String { line > 0 ? "\(file):\(line):\(column)" : file }

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    static func override(_ text: String) -> SpecLocation {
        SpecLocation(file: "--set \(text)", line: 0, column: 0)
    }
}

/// A parsed spec document that remembers where every value came from, so each error can
/// name its file, line and column.
public indirect enum SpecValue: Sendable {
    case scalar(String, SpecLocation)
    case map([(key: String, keyLocation: SpecLocation, value: SpecValue)], SpecLocation)
    case list([SpecValue], SpecLocation)

    public var location: SpecLocation {
        switch self {
        case .scalar(_, let location), .map(_, let location), .list(_, let location): return location
        }
    }

    /// Parses YAML text from `file`.
    public static func parse(yaml: String, file: String) throws(SpecError) -> SpecValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw SpecError(
                SpecLocation(file: file, line: 0, column: 0), "", "is not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")"
            )
        } catch {
            throw SpecError(SpecLocation(file: file, line: 0, column: 0), "", "is not valid YAML: \(error)")
        }
        guard let node else { return .map([], SpecLocation(file: file, line: 1, column: 1)) }
        return try convert(node, file: file)
    }

    private static func convert(_ node: Node, file: String) throws(SpecError) -> SpecValue {
        let location = SpecLocation(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
        switch node {
        case .scalar(let scalar):
            return .scalar(scalar.string, location)
        case .mapping(let mapping):
            var pairs: [(String, SpecLocation, SpecValue)] = []
            for (key, value) in mapping {
                let keyLocation = SpecLocation(file: file, line: key.mark?.line ?? 0, column: key.mark?.column ?? 0)
                guard let name = key.string else { throw SpecError(keyLocation, "", "keys must be plain strings") }
                if pairs.contains(where: { $0.0 == name }) { throw SpecError(keyLocation, name, "is given twice") }
                pairs.append((name, keyLocation, try convert(value, file: file)))
            }
            return .map(pairs, location)
        case .sequence(let sequence):
            var items: [SpecValue] = []
            for item in sequence { items.append(try convert(item, file: file)) }
            return .list(items, location)
        case .alias:
            throw SpecError(location, "", "YAML aliases are not supported in specs; repeat the value or use include")
        }
    }

    /// `self` with `other` laid over it: maps merge key by key (other wins), anything else is replaced.
    public func merged(with other: SpecValue) -> SpecValue {
        guard case .map(let base, let location) = self, case .map(let top, _) = other else { return other }
        var result = base
        for entry in top {
            if let index = result.firstIndex(where: { $0.key == entry.key }) {
                result[index] = (entry.key, entry.keyLocation, result[index].value.merged(with: entry.value))
            } else {
                result.append(entry)
            }
        }
        return .map(result, location)
    }

    /// Sets the value at a dotted path (`teams.search.sdk_retries`), creating maps as needed.
    public func setting(_ path: ArraySlice<String>, to value: SpecValue) -> SpecValue {
        guard let first = path.first else { return value }
        guard case .map(var entries, let location) = self else {
            return SpecValue.map([], value.location).setting(path, to: value)
        }
        if let index = entries.firstIndex(where: { $0.key == first }) {
            entries[index] = (first, entries[index].keyLocation, entries[index].value.setting(path.dropFirst(), to: value))
        } else {
            entries.append((first, value.location, SpecValue.map([], value.location).setting(path.dropFirst(), to: value)))
        }
        return .map(entries, location)
    }
}

/// A problem with a spec: where, which key path, and what would be valid.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public let location: SpecLocation
    public let path: String
    public let message: String

    public init(_ location: SpecLocation, _ path: String, _ message: String) {
        self.location = location
        self.path = path
        self.message = message
    }

    public var description: String {
        path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

extension SpecValue {
    /// The value as block YAML at `indent` spaces, every key and scalar a double-quoted string
    /// (JSON's escapes are YAML's; the spec reader reads every scalar from its text, so the
    /// value reads back the same).
    /// A map or list starts on the next line; a scalar, an empty map or an empty list on this one.
    public func yaml(indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .scalar(let text, _):
            return " " + JSONText.quoted(text) + "\n"
        case .map(let entries, _):
            guard !entries.isEmpty else { return " {}\n" }
            return "\n" + entries.map { pad + JSONText.quoted($0.key) + ":" + $0.value.yaml(indent: indent + 2) }.joined()
        case .list(let items, _):
            guard !items.isEmpty else { return " []\n" }
            return "\n" + items.map { item in pad + "-" + item.yaml(indent: indent + 2).replacingFirstNewline(with: pad + "  ") }.joined()
        }
    }

}

extension String {
    /// A list item's map or list begins on the item's line (`- key: …`), not the next.
    fileprivate func replacingFirstNewline(with pad: String) -> String {
        guard hasPrefix("\n") else { return self }
        // "\n<pad>  key: …" → " key: …": the first line joins the dash.
        let rest = dropFirst()
        guard rest.hasPrefix(pad) else { return self }
        return " " + rest.dropFirst(pad.count)
    }
}
