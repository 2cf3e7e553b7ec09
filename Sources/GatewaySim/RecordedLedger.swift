import RoutingCore
import Stochastics

/// The spend ledger replicated gateways keep in PostgreSQL (`brownout_spend_ledger`, one row per
/// settled request and per late result, each replica's own), exported to CSV with its header —
/// `\copy (SELECT * FROM brownout_spend_ledger WHERE …) TO 'ledger.csv' WITH (FORMAT csv, HEADER)`
/// — for `brownout incident`: the chargeback as the gateways booked it.
public struct RecordedLedger: Sendable {
    public struct Row: Sendable {
        /// When the router settled it, in Unix nanoseconds.
        public let settledUnixNanoseconds: Int64
        public let replica: String
        public let boot: Int64
        public let requestID: Int64
        /// 0: the request's settlement; 1, 2, …: what a result after its end added.
        public let part: Int
        public let team: String?
        public let route: String
        public let upstream: String?
        /// `complete`, `fail`, `reject`, or `late`.
        public let outcome: String
        public let attempts: Int
        public let spend: TeamSpend
        public let degraded: Bool
        /// Line of its file.
        public let line: Int
    }

    public let file: String
    public let rows: [Row]

    /// The columns read (the table's others, such as `api_key` and the token counts, may be there).
    public static let columns = [
        "settled_at", "replica", "boot", "request_id", "part", "team", "route", "upstream", "outcome", "attempts", "successful_usd",
        "retried_usd", "wasted_usd", "fallback_gpu_seconds", "fallback_usd", "bypass_usd", "degraded",
    ]

    /// Whether a file whose first line is `header` is a ledger export (else it is taken for a trace).
    public static func isLedger(header: Substring) -> Bool {
        let names = CSVColumn.fields(of: header)
        return names.contains("settled_at") && names.contains("successful_usd")
    }

    /// Reads a ledger export; a missing column, a malformed field or an unknown outcome is an
    /// error at its file:line.
    public static func read(_ text: String, file: String) throws(RecordedIncident.IncidentError) -> RecordedLedger {
        func failure(_ line: Int, _ message: String) -> RecordedIncident.IncidentError {
            RecordedIncident.IncidentError(description: "\(file):\(line): \(message)")
        }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        guard let headerLine = lines.first, isLedger(header: headerLine) else {
            throw failure(1, "not a spend ledger export: its header needs \(columns.joined(separator: ","))")
        }
        let header = CSVColumn.fields(of: headerLine)
        var index: [String: Int] = [:]
        for column in columns {
            guard let position = header.firstIndex(of: column) else {
                throw failure(1, "no column '\(column)' (export the whole table: SELECT * FROM brownout_spend_ledger)")
            }
            index[column] = position
        }
        var rows: [Row] = []
        for (offset, line) in lines.enumerated().dropFirst() where !line.allSatisfy(\.isWhitespace) {
            let number = offset + 1
            let fields = CSVColumn.fields(of: line)
            guard fields.count == header.count else {
                throw failure(number, "\(fields.count) fields, the header has \(header.count) (a row cut short?)")
            }
            func field(_ name: String) -> String { fields[index[name]!] }
            func integer(_ name: String) throws(RecordedIncident.IncidentError) -> Int64 {
                guard let value = Int64(field(name)) else { throw failure(number, "\(name) '\(field(name))' is not an integer") }
                return value
            }
            func amount(_ name: String) throws(RecordedIncident.IncidentError) -> Double {
                guard let value = Double(field(name)), value.isFinite, value >= 0 else {
                    throw failure(number, "\(name) '\(field(name))' is not an amount ≥ 0")
                }
                return value
            }
            guard let settled = timestamp(field("settled_at")) else {
                throw failure(number, "settled_at '\(field("settled_at"))' is not a time (2026-04-14 13:05:00.123456+00)")
            }
            let outcome = field("outcome")
            guard ["complete", "fail", "reject", "late"].contains(outcome) else {
                throw failure(number, "outcome '\(outcome)' is none of complete, fail, reject, late")
            }
            let degraded: Bool
            switch field("degraded") {
            case "t", "true", "1": degraded = true
            case "f", "false", "0": degraded = false
            case let other: throw failure(number, "degraded '\(other)' is not a boolean (t or f)")
            }
            var spend = TeamSpend()
            spend.successfulUSD = try amount("successful_usd")
            spend.retriedUSD = try amount("retried_usd")
            spend.wastedUSD = try amount("wasted_usd")
            spend.fallbackGPUSeconds = try amount("fallback_gpu_seconds")
            spend.fallbackUSD = try amount("fallback_usd")
            spend.bypassUSD = try amount("bypass_usd")
            let route = field("route")
            guard !route.isEmpty else { throw failure(number, "route is empty") }
            rows.append(
                Row(
                    settledUnixNanoseconds: settled, replica: field("replica"), boot: try integer("boot"), requestID: try integer("request_id"),
                    part: Int(try integer("part")), team: field("team").isEmpty ? nil : field("team"), route: route,
                    upstream: field("upstream").isEmpty ? nil : field("upstream"), outcome: outcome, attempts: Int(try integer("attempts")),
                    spend: spend, degraded: degraded, line: number))
        }
        return RecordedLedger(file: file, rows: rows)
    }

    /// Several exports as one ledger: a row that two exports hold (the same replica, boot,
    /// request and part) counts once, and the rows are in settlement order.
    public static func merged(_ ledgers: [RecordedLedger]) -> [(file: String, row: Row)] {
        struct Key: Hashable {
            let replica: String
            let boot: Int64
            let request: Int64
            let part: Int
        }
        var seen = Set<Key>()
        var rows: [(file: String, row: Row)] = []
        for ledger in ledgers {
            for row in ledger.rows where seen.insert(Key(replica: row.replica, boot: row.boot, request: row.requestID, part: row.part)).inserted {
                rows.append((ledger.file, row))
            }
        }
        return rows.sorted {
            ($0.row.settledUnixNanoseconds, $0.row.replica, $0.row.boot, $0.row.requestID, $0.row.part)
                < ($1.row.settledUnixNanoseconds, $1.row.replica, $1.row.boot, $1.row.requestID, $1.row.part)
        }
    }

    /// A `timestamptz` as PostgreSQL writes it (`2026-04-14 13:05:00.123456+00`, any offset
    /// `±HH[:MM]`) or RFC 3339 (`2026-04-14T13:05:00Z`), in Unix nanoseconds.
    public static func timestamp(_ text: String) -> Int64? {
        let characters = Array(text.utf8)
        var position = 0
        func digits(_ count: Int) -> Int64? {
            guard position + count <= characters.count else { return nil }
            var value: Int64 = 0
            for character in characters[position..<position + count] {
                guard character >= 48 && character <= 57 else { return nil }
                value = value * 10 + Int64(character - 48)
            }
            position += count
            return value
        }
        func skip(_ allowed: [UInt8]) -> Bool {
            guard position < characters.count, allowed.contains(characters[position]) else { return false }
            position += 1
            return true
        }
        guard let year = digits(4), skip([45]), let month = digits(2), skip([45]), let day = digits(2), skip([32, 84, 116]),
            let hour = digits(2), skip([58]), let minute = digits(2), skip([58]), let second = digits(2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var nanoseconds: Int64 = 0
        if skip([46]) {
            var scale: Int64 = 100_000_000
            var any = false
            while position < characters.count, characters[position] >= 48 && characters[position] <= 57 {
                nanoseconds += Int64(characters[position] - 48) * scale
                scale /= 10
                position += 1
                any = true
            }
            guard any else { return nil }
        }
        var offsetSeconds: Int64 = 0
        if skip([90, 122]) {
            offsetSeconds = 0
        } else if position < characters.count, characters[position] == 43 || characters[position] == 45 {
            let sign: Int64 = characters[position] == 45 ? -1 : 1
            position += 1
            guard let hours = digits(2) else { return nil }
            var minutes: Int64 = 0
            if skip([58]) {
                guard let value = digits(2) else { return nil }
                minutes = value
            } else if position + 2 <= characters.count, let value = digits(2) {
                minutes = value
            }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard position == characters.count else { return nil }
        // Days from 1970-01-01 in the proleptic Gregorian calendar (eras of 400 years).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000_000 + nanoseconds
    }
}
