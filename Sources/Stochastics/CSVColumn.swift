import Foundation

/// Reads one numeric column of a CSV file (RFC 4180: comma-separated, header row,
/// double-quoted fields may contain commas and doubled quotes).
public enum CSVColumn {
    /// The values of column `column`; errors name the file, line and what is wrong.
    public static func read(path: String, column: String) throws(StochasticsError) -> [Double] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StochasticsError("\(path): file not found or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw StochasticsError("\(path): not UTF-8 text")
        }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().makeIterator()
        guard let (_, headerLine) = lines.next() else {
            throw StochasticsError("\(path):1: empty file, expected a header row")
        }
        let header = fields(of: headerLine)
        guard let index = header.firstIndex(of: column) else {
            let valid = header.map { "'\($0)'" }.joined(separator: ", ")
            throw StochasticsError("\(path):1: no column '\(column)'; columns are \(valid)")
        }
        var values: [Double] = []
        while let (offset, line) = lines.next() {
            if line.allSatisfy(\.isWhitespace) { continue }
            let row = fields(of: line)
            let lineNumber = offset + 1
            guard index < row.count else {
                throw StochasticsError("\(path):\(lineNumber): row has \(row.count) fields, column '\(column)' is field \(index + 1)")
            }
            let field = row[index].trimmingCharacters(in: .whitespaces)
            guard let value = Double(field), value.isFinite else {
                throw StochasticsError("\(path):\(lineNumber): column '\(column)' holds '\(field)', expected a finite number")
            }
            values.append(value)
        }
        guard !values.isEmpty else {
            throw StochasticsError("\(path): column '\(column)' has no values")
        }
        return values
    }

    /// The fields of one CSV line (RFC 4180 quoting).
    public static func fields(of line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    if let following = iterator.next() {
                        if following == "\"" {
                            current.append("\"")
                        } else {
                            quoted = false
                            if following == "," { fields.append(current); current = "" } else { current.append(following) }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
