import Foundation

/// Writes output files so that a reader never sees half of one: each file is written to a
/// temporary file in the same directory and renamed over the target.
public enum AtomicOutput {
    public static func write(_ text: String, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Creates `directory` (and its parents) if needed.
    public static func prepare(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// A command's output files (name, text), each written atomically into `directory`, made
    /// first; a failure is one line naming the directory.
    static func write(_ files: [(String, String)], into directory: URL) throws(ExperimentFailure) {
        do {
            try prepare(directory: directory)
            for (name, text) in files { try write(text, to: directory.appendingPathComponent(name)) }
        } catch {
            throw ExperimentFailure("\(directory.path): could not write outputs (\(error.localizedDescription))")
        }
    }
}

/// RFC 4180 rows.
public struct CSVTable: Sendable {
    public private(set) var text: String

    public init(header: [String]) {
        text = CSVTable.row(header)
    }

    public mutating func append(_ fields: [String]) {
        text += CSVTable.row(fields)
    }

    public static func row(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",") + "\r\n"
    }

    /// A number as written in every output: up to 9 significant digits, no locale.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "Inf" : "-Inf") }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.9g", value)
    }
}
