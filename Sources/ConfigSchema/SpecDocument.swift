import Foundation

/// Loads a spec file: its `include:` files first (paths relative to the including file,
/// merged in order, the including file winning), then `--set path=value` overrides.
///
/// Maps merge key by key; any other value is replaced — except `degradation:` lists, which
/// are concatenated (included files first), so a scenario can layer processes from the
/// catalog and add its own.
public enum SpecDocument {
    public static func load(path: String, overrides: [String] = []) throws(SpecError) -> SpecValue {
        var value = try load(path: path, chain: [])
        for text in overrides {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw SpecError(.override(text), "", "must be path=value, e.g. run.replications=10")
            }
            let keyPath = text[..<equals].split(separator: ".").map(String.init)
            let raw = String(text[text.index(after: equals)...])
            let location = SpecLocation.override(text)
            let replacement: SpecValue
            if raw.hasPrefix("[") || raw.hasPrefix("{") {
                replacement = relocate(try SpecValue.parse(yaml: raw, file: "--set \(text)"), to: location)
            } else {
                replacement = .scalar(raw, location)
            }
            value = value.setting(keyPath[...], to: replacement)
        }
        return value
    }

    private static func load(path: String, chain: [String]) throws(SpecError) -> SpecValue {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if chain.contains(url.path) {
            throw SpecError(SpecLocation(file: path, line: 0, column: 0), "include", "includes itself through \(chain.joined(separator: " → "))")
        }
        // Only regular files: a device or a FIFO (say /dev/zero) would never end.
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        if let type = attributes?[.type] as? FileAttributeType, type != .typeRegular {
            throw SpecError(SpecLocation(file: path, line: 0, column: 0), "", "not a regular file")
        }
        // An empty file is not a spec (and Foundation's reader leaks its buffer on one).
        if let size = attributes?[.size] as? Int, size == 0 {
            throw SpecError(SpecLocation(file: path, line: 0, column: 0), "", "the file is empty; a spec is a map of keys to values")
        }
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw SpecError(SpecLocation(file: path, line: 0, column: 0), "", "file not found or not readable")
        }
        let document = try SpecValue.parse(yaml: text, file: path)
        guard case .map(let entries, let location) = document else {
            throw SpecError(document.location, "", "a spec must be a map of keys to values")
        }
        guard let include = entries.first(where: { $0.key == "include" }) else { return document }
        guard case .list(let items, _) = include.value else { throw SpecError(include.value.location, "include", "must be a list of files") }
        var files: [String] = []
        for (index, item) in items.enumerated() {
            guard case .scalar(let file, _) = item else { throw SpecError(item.location, "include[\(index)]", "must be a file name") }
            files.append(file)
        }
        var merged = SpecValue.map([], location)
        var degradation: [SpecValue] = []
        var degradationLocation = location
        func collect(_ value: SpecValue) throws(SpecError) {
            guard case .map(let entries, _) = value, let list = entries.first(where: { $0.key == "degradation" }) else { return }
            guard case .list(let items, let listLocation) = list.value else {
                throw SpecError(list.value.location, "degradation", "must be a list of processes")
            }
            degradation += items
            degradationLocation = listLocation
        }
        for file in files {
            let included = URL(fileURLWithPath: file, relativeTo: url.deletingLastPathComponent()).standardizedFileURL.path
            let loaded: SpecValue
            do {
                loaded = try load(path: included, chain: chain + [url.path])
            } catch let error where error.message == "file not found or not readable" && error.location.file == included {
                throw SpecError(include.value.location, "include", "'\(file)' not found (looked for \(included))")
            }
            try collect(loaded)
            merged = merged.merged(with: loaded)
        }
        let own = SpecValue.map(entries.filter { $0.key != "include" }, location)
        try collect(own)
        merged = merged.merged(with: own)
        if !degradation.isEmpty {
            merged = merged.setting(["degradation"], to: .list(degradation, degradationLocation))
        }
        return merged
    }

    private static func relocate(_ value: SpecValue, to location: SpecLocation) -> SpecValue {
        switch value {
        case .scalar(let text, _): return .scalar(text, location)
        case .list(let items, _): return .list(items.map { relocate($0, to: location) }, location)
        case .map(let entries, _): return .map(entries.map { ($0.key, location, relocate($0.value, to: location)) }, location)
        }
    }
}
