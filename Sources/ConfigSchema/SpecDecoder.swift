import RoutingCore

/// Decodes configuration types from a parsed spec, strictly: every value keeps its
/// file:line:column, every error names the key path as the user wrote it, and a key that no
/// type asked for is an error with the closest valid key suggested.
///
/// Several types may read the same document (RoutingCore's `RouterConfig` reads the routing
/// keys of `providers.NAME`, the simulator its latency and capacity keys); a key is unknown
/// only when none of them asked for it, so check with ``checkUnknownKeys()`` after the last
/// decode.
public final class SpecDecoder {
    let root: SpecNode

    public init(_ document: SpecValue) {
        root = SpecNode(document)
    }

    /// The whole document as `T`.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws(SpecError) -> T {
        do {
            return try T(from: SpecNodeDecoder(node: root, codingPath: []))
        } catch {
            throw specError(error)
        }
    }

    /// Fails on the first key (in document order) that no decode asked for.
    public func checkUnknownKeys() throws(SpecError) {
        if let error = root.firstUnknownKey(path: "") { throw error }
    }

    /// A finding about the value at a key path (`routes.chat.retry.max_attempts`), located at
    /// that value (or the deepest part of the path that exists).
    public func error(_ finding: ConfigFinding) -> SpecError {
        error(path: finding.path, finding.message)
    }

    public func error(path: String, _ message: String) -> SpecError {
        SpecError(root.deepest(along: SpecPath.components(path)).location, path, message)
    }

    /// Any error a decode threw, as a located ``SpecError``.
    func specError(_ error: any Error) -> SpecError {
        switch error {
        case let error as SpecError:
            return error
        case DecodingError.keyNotFound(let key, let context):
            let node = root.deepest(along: context.codingPath.map(SpecPath.Component.init))
            let path = ConfigPath.text(context.codingPath)
            // A missing key next to one nobody asked for is most likely a typo of it.
            if let typo = node.unaskedKey(closeTo: key.stringValue) {
                return SpecError(
                    typo.keyLocation, ConfigPath.joined(path, typo.key),
                    node.unknownKeyMessage(typo.key, candidates: node.askedKeys.union(node.declaredKeys).union([key.stringValue])))
            }
            return SpecError(node.location, path, "missing required key '\(key.stringValue)'")
        case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let node = root.deepest(along: context.codingPath.map(SpecPath.Component.init))
            return SpecError(node.location, ConfigPath.text(context.codingPath), context.debugDescription)
        default:
            return SpecError(root.location, "", "\(error)")
        }
    }
}

/// Key paths as users write them: `routes.chat.chain[0]`.
enum SpecPath {
    enum Component: Equatable {
        case key(String)
        case index(Int)

        init(_ key: any CodingKey) {
            if let index = key.intValue { self = .index(index) } else { self = .key(key.stringValue) }
        }
    }

    /// `a.b[2].c` → key a, key b, index 2, key c. A name may itself contain dots
    /// (`gpt-4.1`): the node walk joins keys back when a split one does not exist.
    static func components(_ path: String) -> [Component] {
        var components: [Component] = []
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            if let bracket = rest.firstIndex(of: "[") {
                if bracket != rest.startIndex { components.append(.key(String(rest[..<bracket]))) }
                rest = rest[bracket...]
                while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                    if let index = Int(rest[rest.index(after: rest.startIndex)..<close]) { components.append(.index(index)) }
                    rest = rest[rest.index(after: close)...]
                }
            } else if !rest.isEmpty {
                components.append(.key(String(rest)))
            }
        }
        return components
    }
}

/// A value of the document, with a record of which keys of a map some decode asked for.
final class SpecNode {
    enum Content {
        case scalar(String)
        case map([(key: String, keyLocation: SpecLocation, node: SpecNode)])
        case list([SpecNode])
    }

    let content: Content
    let location: SpecLocation
    /// Keys some decode asked for (read, or checked for).
    var askedKeys: Set<String> = []
    /// Whether some decode opened this map as a keyed container (only such maps are checked).
    var opened = false
    /// Every key the coding-key types of those containers declare (for suggestions when a
    /// decode stops early at a missing key).
    var declaredKeys: Set<String> = []

    init(_ value: SpecValue) {
        location = value.location
        switch value {
        case .scalar(let text, _): content = .scalar(text)
        case .map(let entries, _): content = .map(entries.map { ($0.key, $0.keyLocation, SpecNode($0.value)) })
        case .list(let items, _): content = .list(items.map(SpecNode.init))
        }
    }

    func child(_ key: String) -> SpecNode? {
        guard case .map(let entries) = content else { return nil }
        return entries.first { $0.key == key }?.node
    }

    /// The node at `components`, or the deepest one that exists on the way.
    func deepest(along components: [SpecPath.Component]) -> SpecNode {
        var node = self
        var index = components.startIndex
        while index < components.endIndex {
            switch (components[index], node.content) {
            case (.index(let i), .list(let items)) where items.indices.contains(i):
                node = items[i]
                index += 1
            case (.key, .map):
                // Join dotted parts back until a key matches (names may contain dots).
                var matched = false
                var name = ""
                var end = index
                while end < components.endIndex, case .key(let part) = components[end] {
                    name = name.isEmpty ? part : "\(name).\(part)"
                    end += 1
                    if let child = node.child(name) {
                        node = child
                        index = end
                        matched = true
                        break
                    }
                }
                if !matched { return node }
            default:
                return node
            }
        }
        return node
    }

    /// A key nobody asked for that is a likely typo of `key`.
    func unaskedKey(closeTo key: String) -> (key: String, keyLocation: SpecLocation)? {
        guard case .map(let entries) = content else { return nil }
        let unasked = entries.filter { !askedKeys.contains($0.key) && !declaredKeys.contains($0.key) }
        guard let match = NameSuggestion.closest(to: key, in: unasked.map(\.key)), NameSuggestion.closest(to: match, in: [key]) != nil else {
            return nil
        }
        return unasked.first { $0.key == match }.map { ($0.key, $0.keyLocation) }
    }

    func unknownKeyMessage(_ key: String, candidates: Set<String>) -> String {
        let valid = candidates.sorted()
        var message = "unknown key '\(key)'"
        if let suggestion = NameSuggestion.closest(to: key, in: valid) {
            message += "; did you mean '\(suggestion)'? Valid keys: "
        } else {
            message += "; valid keys: "
        }
        return message + valid.joined(separator: ", ")
    }

    /// The first key, in document order, of a checked map that no decode asked for.
    func firstUnknownKey(path: String) -> SpecError? {
        switch content {
        case .scalar:
            return nil
        case .list(let items):
            for (index, item) in items.enumerated() {
                if let error = item.firstUnknownKey(path: "\(path)[\(index)]") { return error }
            }
            return nil
        case .map(let entries):
            for entry in entries {
                let entryPath = ConfigPath.joined(path, entry.key)
                if opened && !askedKeys.contains(entry.key) {
                    return SpecError(entry.keyLocation, entryPath, unknownKeyMessage(entry.key, candidates: askedKeys))
                }
                if let error = entry.node.firstUnknownKey(path: entryPath) { return error }
            }
            return nil
        }
    }
}

extension SpecDecoder {
    /// Counts `keys` as asked for in the maps at `path` (`*` matches every entry of a map of
    /// names): keys another program reads, which this one accepts without reading.
    public func accept(_ keys: Set<String>, at path: [String]) {
        func walk(_ node: SpecNode, _ rest: ArraySlice<String>) {
            guard case .map(let entries) = node.content else { return }
            guard let first = rest.first else {
                node.askedKeys.formUnion(keys.filter { key in entries.contains { $0.key == key } })
                return
            }
            for entry in entries where first == "*" || entry.key == first { walk(entry.node, rest.dropFirst()) }
        }
        walk(root, path[...])
    }
}

/// The keys of a spec only the simulator reads. A gateway reading the spec a team simulated
/// accepts them without reading them; `SchemaRoundTripTests` holds these lists to the
/// simulator's own coding keys, so they cannot drift.
public enum SimulatorKeys {
    public static let sections: Set<String> = ["name", "description", "run", "degradation", "variants"]
    public static let provider: Set<String> = [
        "concurrency", "queue", "states", "ttft_s", "output_tokens_per_s", "output_tpm", "hang_s", "context_window_tokens",
    ]
    public static let pool: Set<String> = ["autoscaling", "ttft_s", "replica_output_tokens_per_s", "context_window_tokens"]
    public static let poolAutoscaling: Set<String> = ["spin_up_s", "scale_up_queue", "scale_down_idle_s"]
    public static let gateway: Set<String> = ["states", "replicas", "propagation_delay_s", "crashes"]
    public static let team: Set<String> = ["route", "arrivals", "slo", "input_tokens", "output_tokens", "sdk_retries", "stream_share", "api"]

    /// Accepts every simulator key of a spec in `decoder`.
    public static func accept(in decoder: SpecDecoder) {
        decoder.accept(sections, at: [])
        decoder.accept(provider, at: ["providers", "*"])
        decoder.accept(pool.subtracting(["autoscaling"]), at: ["pools", "*"])
        decoder.accept(poolAutoscaling, at: ["pools", "*", "autoscaling"])
        decoder.accept(gateway, at: ["gateway"])
        decoder.accept(team, at: ["teams", "*"])
    }
}
