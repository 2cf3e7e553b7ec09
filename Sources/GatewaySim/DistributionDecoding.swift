import RoutingCore
import Stochastics

/// A distribution as a spec writes it: a number (a constant), `{constant: 500}`,
/// `{lognormal: {median: 0.8, p99: 4}}` (every kind of ``DistributionKind`` with its
/// parameters), or `{empirical: {file: x.csv, column: c}}` (relative to the spec's file).
extension Distribution: Decodable {
    enum EmpiricalKeys: String, CodingKey, CaseIterable { case file, column }

    public init(from decoder: any Decoder) throws {
        if let value = try? decoder.singleValueContainer().decode(Double.self) {
            self = try decoder.checked { () throws(StochasticsError) in try DistributionCatalog.make(kind: .constant, parameters: ["value": value]) }
            return
        }
        let (kind, body) = try decoder.kindEntry(DistributionKind.self, what: "distribution")
        if kind == .empirical {
            let c = try body.container(keyedBy: EmpiricalKeys.self)
            let file = ConfigFile.resolve(try c.decode(String.self, forKey: .file), in: body)
            let column = try c.decode(String.self, forKey: .column)
            self = try body.checked { () throws(StochasticsError) in try .empirical(csvFile: file, column: column) }
            return
        }
        var parameters: [String: Double] = [:]
        if kind == .constant, let value = try? body.singleValueContainer().decode(Double.self) {
            parameters["value"] = value
        } else {
            let c = try body.container(keyedBy: ConfigKey.self)
            for key in c.allKeys { parameters[key.stringValue] = try c.decode(Double.self, forKey: key) }
        }
        self = try decoder.checked { () throws(StochasticsError) in try DistributionCatalog.make(kind: kind, parameters: parameters) }
    }

}

extension Decoder {
    /// Runs a Stochastics constructor, turning its error into one located at this value.
    func checked<T>(_ make: () throws(StochasticsError) -> T) throws -> T {
        do {
            return try make()
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: error.message))
        }
    }
}

/// Data files named in a spec.
enum ConfigFile {
    /// A relative path is relative to the file the value was read from.
    static func resolve(_ file: String, in decoder: any Decoder) -> String {
        guard !file.hasPrefix("/"), let source = decoder.userInfo[.configSourceFile] as? String, let slash = source.lastIndex(of: "/") else {
            return file
        }
        return String(source[..<slash]) + "/" + file
    }
}
