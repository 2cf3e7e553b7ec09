import RoutingCore
import Stochastics

/// A team's arrivals as a spec writes them: `{poisson: {rate_per_s}}`, `{diurnal: {segments:
/// [{duration_s, rate_per_s}], repeat}}`, `{mmpp: {rates_per_s, mean_sojourn_s}}` or
/// `{replay: {file, column}}`.
public struct ArrivalProcessSpec: Decodable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case poisson, diurnal, mmpp, replay
    }

    public let process: any ArrivalProcess & Sendable

    enum PoissonKeys: String, CodingKey, CaseIterable { case rate = "rate_per_s" }
    enum DiurnalKeys: String, CodingKey, CaseIterable {
        case segments
        case repeats = "repeat"
    }
    enum SegmentKeys: String, CodingKey, CaseIterable {
        case duration = "duration_s", rate = "rate_per_s"
    }
    enum ModulatedKeys: String, CodingKey, CaseIterable {
        case rates = "rates_per_s", meanSojourn = "mean_sojourn_s"
    }
    enum ReplayKeys: String, CodingKey, CaseIterable { case file, column }

    public init(from decoder: any Decoder) throws {
        let (kind, body) = try decoder.kindEntry(Kind.self, what: "arrival process")
        switch kind {
        case .poisson:
            let rate: Double = try body.container(keyedBy: PoissonKeys.self).number(.rate, above: 0)
            process = try body.checked { () throws(StochasticsError) in try PoissonArrivals(ratePerSecond: rate) }
        case .diurnal:
            let c = try body.container(keyedBy: DiurnalKeys.self)
            var list = try c.nestedUnkeyedContainer(forKey: .segments)
            var segments: [PiecewiseConstantArrivals.Segment] = []
            while !list.isAtEnd {
                let segment = try list.nestedContainer(keyedBy: SegmentKeys.self)
                segments.append(.init(seconds: try segment.number(.duration, above: 0), ratePerSecond: try segment.number(.rate, atLeast: 0)))
            }
            let repeats = try c.decode(.repeats, default: true)
            process = try body.checked { () throws(StochasticsError) in try PiecewiseConstantArrivals(segments: segments, repeats: repeats) }
        case .mmpp:
            let c = try body.container(keyedBy: ModulatedKeys.self)
            let rates = try c.decode([Double].self, forKey: .rates)
            let sojourns = try c.decode([Double].self, forKey: .meanSojourn)
            process = try body.checked { () throws(StochasticsError) in
                try MarkovModulatedArrivals(ratesPerSecond: rates, chain: try MarkovChain(meanSojournSeconds: sojourns))
            }
        case .replay:
            let c = try body.container(keyedBy: ReplayKeys.self)
            let file = ConfigFile.resolve(try c.decode(String.self, forKey: .file), in: body)
            let column = try c.decode(.column, default: "timestamp_s")
            process = try body.checked { () throws(StochasticsError) in try ReplayArrivals(csvFile: file, column: column) }
        }
    }
}
