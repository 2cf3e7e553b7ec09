import Foundation
import GatewaySim
import RoutingCore
import Testing

/// The spend ledger's CSV export as `brownout incident` reads it: PostgreSQL's `timestamptz`
/// text in any offset, every malformed row refused at its line, rows two exports share counted
/// once.
@Suite("the spend ledger's export, read back")
struct RecordedLedgerTests {
    static let header =
        "settled_at,replica,boot,request_id,part,team,api_key,route,upstream,outcome,attempts,input_tokens,output_tokens,successful_usd,retried_usd,wasted_usd,fallback_gpu_seconds,fallback_usd,bypass_usd,degraded"

    static func row(
        _ settled: String, request: Int, part: Int = 0, team: String = "search", outcome: String = "complete", usd: String = "0.25"
    )
        -> String
    {
        "\(settled),gateway-1,77,\(request),\(part),\(team),,chat,alpha,\(outcome),2,100,10,\(usd),0.125,0,0,0,0,f"
    }

    @Test("timestamps: PostgreSQL's text and RFC 3339 in any offset, against Foundation's calendar on 2,000 random instants")
    func timestamps() throws {
        var generator = SplitMix64(seed: 20_261_207)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for _ in 0..<2_000 {
            // Any second from 1900 to 2200, a microsecond fraction, an offset of ±14 h in quarter hours.
            let seconds = Int64(generator.next() % 9_467_280_000) - 2_208_988_800
            let micros = Int64(generator.next() % 1_000_000)
            let offsetMinutes = Int(generator.next() % 113) * 15 - 840
            let date = Date(timeIntervalSince1970: TimeInterval(seconds + Int64(offsetMinutes) * 60))
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let sign = offsetMinutes < 0 ? "-" : "+"
            let text = String(
                format: "%04d-%02d-%02d %02d:%02d:%02d.%06lld%@%02d:%02d", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!,
                parts.second!, micros, sign, abs(offsetMinutes) / 60, abs(offsetMinutes) % 60)
            #expect(RecordedLedger.timestamp(text) == seconds * 1_000_000_000 + micros * 1_000, "\(text)")
        }
        #expect(RecordedLedger.timestamp("2026-04-14 13:05:00+00") == 1_776_171_900_000_000_000)
        #expect(RecordedLedger.timestamp("2026-04-14T13:05:00Z") == 1_776_171_900_000_000_000)
        #expect(RecordedLedger.timestamp("2026-04-14 15:05:00.5+02") == 1_776_171_900_500_000_000)
        for bad in ["", "2026-04-14", "2026-13-01 00:00:00Z", "2026-04-14 25:00:00Z", "2026-04-14 13:05:00", "2026-04-14 13:05:00Zx", "yesterday"] {
            #expect(RecordedLedger.timestamp(bad) == nil, "\(bad)")
        }
    }

    @Test("a malformed row, a missing column, an unknown outcome: one located line each")
    func malformed() {
        let good = Self.row("2026-04-14 13:05:00.000001+00", request: 1)
        for (text, message) in [
            (Self.header + "\n" + good + "\n" + good.replacingOccurrences(of: ",complete,", with: ",done,"), "ledger.csv:3: outcome 'done'"),
            (Self.header + "\n" + good.replacingOccurrences(of: "0.25", with: "-1"), "ledger.csv:2: successful_usd '-1'"),
            (Self.header + "\n" + good.replacingOccurrences(of: ",f", with: ",maybe"), "ledger.csv:2: degraded 'maybe'"),
            (Self.header + "\n" + good + "\n" + good.prefix(40), "ledger.csv:3: 3 fields, the header has 20"),
            (Self.header + "\n" + good.replacingOccurrences(of: "2026-04-14 13:05:00.000001+00", with: "noon"), "ledger.csv:2: settled_at 'noon'"),
            (Self.header.replacingOccurrences(of: ",attempts", with: ",tries") + "\n" + good, "ledger.csv:1: no column 'attempts'"),
        ] {
            #expect(throws: RecordedIncident.IncidentError.self) { _ = try RecordedLedger.read(text, file: "ledger.csv") }
            do {
                _ = try RecordedLedger.read(text, file: "ledger.csv")
            } catch {
                #expect(error.description.hasPrefix(message), "\(error.description)")
            }
        }
    }

    @Test("two exports that overlap: each row once, in settlement order; the amounts as written")
    func merged() throws {
        let first = try RecordedLedger.read(
            Self.header + "\n" + Self.row("2026-04-14 13:05:02+00", request: 2) + "\n" + Self.row("2026-04-14 13:05:01+00", request: 1) + "\n",
            file: "a.csv")
        let second = try RecordedLedger.read(
            Self.header + "\r\n" + Self.row("2026-04-14 13:05:02+00", request: 2) + "\r\n"
                + Self.row("2026-04-14 13:05:03+00", request: 2, part: 1, outcome: "late", usd: "0.5") + "\r\n",
            file: "b.csv")
        let rows = RecordedLedger.merged([first, second])
        #expect(rows.map(\.row.requestID) == [1, 2, 2] && rows.map(\.row.part) == [0, 0, 1])
        #expect(rows.map(\.file) == ["a.csv", "a.csv", "b.csv"])
        #expect(rows[0].row.spend.successfulUSD == 0.25 && rows[0].row.spend.retriedUSD == 0.125 && rows[0].row.team == "search")
        #expect(rows[0].row.upstream == "alpha" && rows[0].row.attempts == 2 && !rows[0].row.degraded)
    }
}
