import GatewaySim
import Stochastics

/// Reads the `degradation:` list: each entry names one process and what it drives.
///
///     - name: capacity-squeeze
///       shared_regime: {regimes: [normal, squeeze], mean_sojourn_s: [14400, 3600],
///                       targets: {anthropic: [healthy, squeeze], openai: [healthy, squeeze]}}
///     - name: google-outages
///       two_state: {provider: google, mtbf_s: 487296, mttr_s: 9216, down_state: outage}
///     - name: april-14
///       script: [{provider: anthropic, from: "13:40", to: "16:10", state: squeeze}]
///
/// Kinds: two_state, regime (K-state chain on one provider), shared_regime, common_shock,
/// copula, hawkes, script. Outage kinds send their providers to `down_state` while out.
enum DegradationSpecParser {
    /// Seconds from the start: a number, or a time "HH:MM" / "HH:MM:SS". Without
    /// `run.start_time` the time is run time (the run starts at 00:00); with it, it is the
    /// time of day (a time before the start is on the next day).
    static func clockTime(_ value: SpecValue, path: String, startOfDay: Double?) throws(SpecError) -> Double {
        guard case .scalar(let text, let location) = value else { throw SpecError(value.location, path, "must be seconds or HH:MM") }
        if let seconds = Double(text), seconds >= 0 { return seconds }
        guard let time = hoursMinutes(text, limitHours: startOfDay == nil ? 48 : 24) else {
            throw SpecError(location, path, "must be seconds from the start or a time HH:MM[:SS], got '\(text)'")
        }
        guard let start = startOfDay else { return time }
        return (time - start + 86_400).truncatingRemainder(dividingBy: 86_400)
    }

    /// "HH:MM" or "HH:MM:SS" in seconds, hours below `limitHours`; nil when it is not one.
    static func hoursMinutes(_ text: String, limitHours: Int) -> Double? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 0 }), parts[0]! < limitHours, parts[1]! < 60,
              parts.count == 2 || parts[2]! < 60 else { return nil }
        return Double(parts[0]! * 3_600 + parts[1]! * 60 + (parts.count == 3 ? parts[2]! : 0))
    }

    static let kinds = ["two_state", "regime", "shared_regime", "common_shock", "copula", "hawkes", "script"]

    static func binding(_ value: SpecValue, path: String, providers: [String], providerStates: [String: [String]],
                        gatewayStates: [String], startOfDay: Double?) throws(SpecError) -> DegradationBinding {
        var reader = try MapReader(value, path: path)
        let name = try reader.string("name")
        let present = kinds.filter { reader.keys.contains($0) }
        guard present.count == 1, let kind = present.first else {
            throw SpecError(value.location, path, "give exactly one process kind: \(kinds.joined(separator: ", "))")
        }
        let body = reader.optional(kind)!
        try reader.finish()
        let bodyPath = "\(path).\(kind)"

        func providerIndex(_ provider: String, _ location: SpecLocation, _ at: String) throws(SpecError) -> Int {
            guard let index = providers.firstIndex(of: provider) else {
                var message = "unknown provider '\(provider)'"
                if let suggestion = closest(to: provider, in: providers) { message += "; did you mean '\(suggestion)'?" }
                throw SpecError(location, at, message + (message.hasSuffix("?") ? " " : "; ") + "providers: \(providers.joined(separator: ", "))")
            }
            return index
        }
        func stateIndex(_ state: String, of provider: String, _ location: SpecLocation, _ at: String) throws(SpecError) -> Int {
            let states = providerStates[provider] ?? ["healthy"]
            guard let index = states.firstIndex(of: state) else {
                throw SpecError(location, at, "provider '\(provider)' has no state '\(state)'; its states: \(states.joined(separator: ", "))")
            }
            return index
        }
        func outageMaps(_ targets: [String], downState: String, _ location: SpecLocation, _ at: String) throws(SpecError) -> [[Int]] {
            var maps: [[Int]] = []
            for provider in targets { maps.append([0, try stateIndex(downState, of: provider, location, at)]) }
            return maps
        }

        do {
            // A script is a list of windows; every other kind is a map of parameters.
            var p = try MapReader(kind == "script" ? .map([], body.location) : body, path: bodyPath)
            switch kind {
            case "two_state":
                let provider = try p.string("provider")
                let index = try providerIndex(provider, body.location, "\(bodyPath).provider")
                let mtbf = try p.double("mtbf_s", min: 0, exclusiveMin: true)
                let mttr = try p.double("mttr_s", min: 0, exclusiveMin: true)
                let down = try p.string("down_state")
                let maps = try outageMaps([provider], downState: down, body.location, "\(bodyPath).down_state")
                try p.finish()
                return DegradationBinding(name: name, targets: [.provider(index)], stateMaps: maps) { stream throws(StochasticsError) in
                    try TwoStateOutages(mtbfSeconds: mtbf, mttrSeconds: mttr, stream: stream)
                }
            case "regime", "shared_regime":
                let regimes = try p.strings("regimes")
                let sojourns = try p.strings("mean_sojourn_s").enumerated().map { (i, text) throws(SpecError) in
                    try SpecScalars.double(.scalar(text, body.location), "\(bodyPath).mean_sojourn_s[\(i)]", min: 0, exclusiveMin: true)
                }
                guard sojourns.count == regimes.count else {
                    throw SpecError(body.location, "\(bodyPath).mean_sojourn_s", "\(sojourns.count) sojourns for \(regimes.count) regimes; give one per regime")
                }
                var jumps: [[Double]]?
                if let jumpValue = p.optional("jump_probabilities") {
                    guard case .list(let rows, _) = jumpValue else { throw SpecError(jumpValue.location, "\(bodyPath).jump_probabilities", "must be a list of rows") }
                    var matrix: [[Double]] = []
                    for (r, row) in rows.enumerated() {
                        let texts = try SpecScalars.strings(row, "\(bodyPath).jump_probabilities[\(r)]")
                        matrix.append(try texts.enumerated().map { (c, text) throws(SpecError) in
                            try SpecScalars.double(.scalar(text, row.location), "\(bodyPath).jump_probabilities[\(r)][\(c)]", min: 0, max: 1)
                        })
                    }
                    jumps = matrix
                }
                let initial = try p.optional("initial").map { (value) throws(SpecError) in try SpecScalars.string(value, "\(bodyPath).initial", oneOf: regimes) }
                var targets: [HealthTarget] = []
                var maps: [[Int]] = []
                var t = try MapReader(try p.required("targets"), path: "\(bodyPath).targets")
                for (target, location, statesValue) in t.named() {
                    let names = try SpecScalars.strings(statesValue, "\(bodyPath).targets.\(target)")
                    guard names.count == regimes.count else {
                        throw SpecError(location, "\(bodyPath).targets.\(target)", "\(names.count) states for \(regimes.count) regimes; give the target's state in each regime")
                    }
                    if target == "gateway" {
                        targets.append(.gateway)
                        maps.append(try names.map { (state) throws(SpecError) in
                            guard let index = gatewayStates.firstIndex(of: state) else {
                                throw SpecError(location, "\(bodyPath).targets.gateway", "the gateway has no state '\(state)'; its states: \(gatewayStates.joined(separator: ", "))")
                            }
                            return index
                        })
                    } else {
                        targets.append(.provider(try providerIndex(target, location, "\(bodyPath).targets")))
                        maps.append(try names.map { (state) throws(SpecError) in try stateIndex(state, of: target, location, "\(bodyPath).targets.\(target)") })
                    }
                }
                try t.finish()
                try p.finish()
                if kind == "regime" && targets.count != 1 {
                    throw SpecError(body.location, "\(bodyPath).targets", "a regime drives one target; use shared_regime for several")
                }
                let chain = try MarkovChain(meanSojournSeconds: sojourns, jumpProbabilities: jumps)
                let initialIndex = initial.flatMap { regimes.firstIndex(of: $0) }
                let identity = targets.indices.map { _ in Array(0..<regimes.count) }
                return DegradationBinding(name: name, targets: targets, stateMaps: maps) { stream throws(StochasticsError) in
                    try MarkovRegime(chain: chain, stateMaps: identity, initialRegime: initialIndex, stream: stream)
                }
            case "common_shock":
                let down = try p.string("down_state")
                guard case .list(let items, _) = try p.required("shocks") else { throw SpecError(body.location, "\(bodyPath).shocks", "must be a list of {providers, rate_per_s, repair_s}") }
                var involved: [String] = []
                var raw: [(providers: [String], rate: Double, repair: Distribution)] = []
                for (index, item) in items.enumerated() {
                    var shock = try MapReader(item, path: "\(bodyPath).shocks[\(index)]")
                    let names = try shock.strings("providers")
                    for provider in names { _ = try providerIndex(provider, item.location, "\(bodyPath).shocks[\(index)].providers") }
                    let rate = try shock.double("rate_per_s", min: 0, exclusiveMin: true)
                    let repair = try ExperimentSpecParser.distribution(try shock.required("repair_s"), path: "\(bodyPath).shocks[\(index)].repair_s")
                    try shock.finish()
                    for provider in names where !involved.contains(provider) { involved.append(provider) }
                    raw.append((names, rate, repair))
                }
                try p.finish()
                let targets = try involved.map { (provider) throws(SpecError) in HealthTarget.provider(try providerIndex(provider, body.location, bodyPath)) }
                let maps = try outageMaps(involved, downState: down, body.location, "\(bodyPath).down_state")
                let shocks = raw.map { CommonShockOutages.Shock(targets: $0.providers.map { involved.firstIndex(of: $0)! }, ratePerSecond: $0.rate, repairSeconds: $0.repair) }
                let count = involved.count
                return DegradationBinding(name: name, targets: targets, stateMaps: maps) { stream throws(StochasticsError) in
                    try CommonShockOutages(targetCount: count, shocks: shocks, stream: stream)
                }
            case "copula":
                let family = try p.string("family", default: "gaussian", oneOf: ["gaussian", "t"])
                let nu = family == "t" ? try p.double("degrees_of_freedom", min: 0, exclusiveMin: true) : 0
                let rho = try p.double("correlation", min: 0, max: 0.999)
                let slot = try p.double("slot_s", min: 0, exclusiveMin: true)
                let down = try p.string("down_state")
                var probabilities = try MapReader(try p.required("outage_probability"), path: "\(bodyPath).outage_probability")
                var names: [String] = []
                var values: [Double] = []
                for (provider, location, item) in probabilities.named() {
                    _ = try providerIndex(provider, location, "\(bodyPath).outage_probability")
                    names.append(provider)
                    values.append(try SpecScalars.double(item, "\(bodyPath).outage_probability.\(provider)", min: 0, max: 1, exclusiveMin: true))
                }
                try probabilities.finish()
                try p.finish()
                let targets = try names.map { (provider) throws(SpecError) in HealthTarget.provider(try providerIndex(provider, body.location, bodyPath)) }
                let maps = try outageMaps(names, downState: down, body.location, "\(bodyPath).down_state")
                let copulaFamily: CopulaOutages.Family = family == "t" ? .studentT(degreesOfFreedom: nu) : .gaussian
                let marginals = values
                return DegradationBinding(name: name, targets: targets, stateMaps: maps) { stream throws(StochasticsError) in
                    try CopulaOutages(outageProbabilities: marginals, correlation: rho, family: copulaFamily, slotSeconds: slot, stream: stream)
                }
            case "hawkes":
                let names = try p.strings("providers")
                let targets = try names.map { (provider) throws(SpecError) in HealthTarget.provider(try providerIndex(provider, body.location, "\(bodyPath).providers")) }
                let mu = try p.double("base_rate_per_s", min: 0, exclusiveMin: true)
                let alpha = try p.double("excitation", min: 0)
                let beta = try p.double("decay_per_s", min: 0, exclusiveMin: true)
                let repair = try ExperimentSpecParser.distribution(try p.required("repair_s"), path: "\(bodyPath).repair_s")
                let down = try p.string("down_state")
                try p.finish()
                let maps = try outageMaps(names, downState: down, body.location, "\(bodyPath).down_state")
                let count = names.count
                _ = try HawkesIncidents(baseRatePerSecond: mu, excitation: alpha, decayPerSecond: beta, repairSeconds: repair, targetCount: count,
                                        stream: RandomStream(name: "validation", seed: 0, replication: 0))
                return DegradationBinding(name: name, targets: targets, stateMaps: maps) { stream throws(StochasticsError) in
                    try HawkesIncidents(baseRatePerSecond: mu, excitation: alpha, decayPerSecond: beta, repairSeconds: repair, targetCount: count, stream: stream)
                }
            default:
                guard case .list(let items, _) = body else {
                    throw SpecError(body.location, bodyPath, "must be a list of {provider, from, to, state}")
                }
                var involved: [String] = []
                var raw: [(provider: String, from: Double, to: Double, state: Int)] = []
                for (index, item) in items.enumerated() {
                    let itemPath = "\(bodyPath)[\(index)]"
                    var window = try MapReader(item, path: itemPath)
                    let provider = try window.string("provider")
                    _ = try providerIndex(provider, item.location, "\(itemPath).provider")
                    let from = try clockTime(try window.required("from"), path: "\(itemPath).from", startOfDay: startOfDay)
                    let to = try clockTime(try window.required("to"), path: "\(itemPath).to", startOfDay: startOfDay)
                    let state = try stateIndex(try window.string("state"), of: provider, item.location, "\(itemPath).state")
                    try window.finish()
                    if to <= from { throw SpecError(item.location, itemPath, "'to' (\(to) s) must come after 'from' (\(from) s)") }
                    if !involved.contains(provider) { involved.append(provider) }
                    raw.append((provider, from, to, state))
                }
                try p.finish()
                let targets = try involved.map { (provider) throws(SpecError) in HealthTarget.provider(try providerIndex(provider, body.location, bodyPath)) }
                let windows = raw.map { ScriptedTimeline<SteadyHealth>.Window(startSeconds: $0.from, endSeconds: $0.to, target: involved.firstIndex(of: $0.provider)!, state: $0.state) }
                let count = involved.count
                return DegradationBinding(name: name, targets: targets) { _ throws(StochasticsError) in
                    try ScriptedTimeline(base: try SteadyHealth(targetCount: count), windows: windows)
                }
            }
        } catch let error as SpecError {
            throw error
        } catch let error as StochasticsError {
            throw SpecError(body.location, bodyPath, error.message)
        } catch {
            throw SpecError(body.location, bodyPath, "\(error)")
        }
    }
}
