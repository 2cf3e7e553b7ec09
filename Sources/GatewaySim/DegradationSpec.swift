import RoutingCore
import Stochastics

/// One entry of a spec's `degradation:` list, as written: a name and one process kind whose
/// targets are named providers (or the gateway) and their state names. ``binding(in:)``
/// resolves the names against the world.
///
///     - name: capacity-squeeze
///       shared_regime: {regimes: [normal, squeeze], mean_sojourn_s: [14400, 3600],
///                       targets: {anthropic: [healthy, squeeze], openai: [healthy, squeeze]}}
///     - name: google-outages
///       two_state: {provider: google, mtbf_s: 487296, mttr_s: 9216, down_state: outage}
///     - name: april-14
///       script: [{provider: anthropic, from: "13:40", to: "16:10", state: squeeze}]
public struct DegradationSpec: Decodable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case twoState = "two_state", regime
        case sharedRegime = "shared_regime", commonShock = "common_shock"
        case copula, hawkes, script
    }

    public enum CopulaFamily: String, CaseIterable, Sendable {
        case gaussian, t
    }

    struct Shock: Sendable {
        var providers: [String]
        var ratePerSecond: Double
        var repairSeconds: Distribution
    }

    struct ScriptWindow: Sendable {
        var provider: String
        var from: ClockTime
        var to: ClockTime
        var state: String
    }

    enum Process: Sendable {
        case twoState(provider: String, mtbfSeconds: Double, mttrSeconds: Double, downState: String)
        case regime(shared: Bool, regimes: [String], chain: MarkovChain, initial: String?, targets: [(name: String, states: [String])])
        case commonShock(shocks: [Shock], downState: String)
        case copula(
            family: CopulaOutages.Family, correlation: Double, slotSeconds: Double, outageProbability: [(provider: String, probability: Double)],
            downState: String)
        case hawkes(
            providers: [String], baseRatePerSecond: Double, excitation: Double, decayPerSecond: Double, repairSeconds: Distribution, downState: String
        )
        case script([ScriptWindow])
    }

    /// Where the entry is written (`degradation[2]`), for errors found when resolving it.
    public let path: String
    public let name: String
    public let kind: Kind
    let process: Process

    enum CodingKeys: String, CodingKey, CaseIterable { case name }
    enum TwoStateKeys: String, CodingKey, CaseIterable {
        case provider
        case mtbf = "mtbf_s", mttr = "mttr_s", downState = "down_state"
    }
    enum RegimeKeys: String, CodingKey, CaseIterable {
        case regimes, initial, targets
        case meanSojourn = "mean_sojourn_s", jumpProbabilities = "jump_probabilities"
    }
    enum CommonShockKeys: String, CodingKey, CaseIterable {
        case shocks
        case downState = "down_state"
    }
    enum ShockKeys: String, CodingKey, CaseIterable {
        case providers
        case rate = "rate_per_s", repair = "repair_s"
    }
    enum CopulaKeys: String, CodingKey, CaseIterable {
        case family, correlation
        case degreesOfFreedom = "degrees_of_freedom", slot = "slot_s", outageProbability = "outage_probability", downState = "down_state"
    }
    enum HawkesKeys: String, CodingKey, CaseIterable {
        case providers, excitation
        case baseRate = "base_rate_per_s", decay = "decay_per_s", repair = "repair_s", downState = "down_state"
    }
    enum WindowKeys: String, CodingKey, CaseIterable { case provider, from, to, state }

    public init(from decoder: any Decoder) throws {
        path = ConfigPath.text(decoder.codingPath)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let (kind, body) = try decoder.kindEntry(Kind.self, what: "process kind", besides: [CodingKeys.name.rawValue])
        self.kind = kind
        switch kind {
        case .twoState:
            let p = try body.container(keyedBy: TwoStateKeys.self)
            process = .twoState(
                provider: try p.decode(String.self, forKey: .provider), mtbfSeconds: try p.number(.mtbf, above: 0),
                mttrSeconds: try p.number(.mttr, above: 0), downState: try p.decode(String.self, forKey: .downState))
        case .regime, .sharedRegime:
            let p = try body.container(keyedBy: RegimeKeys.self)
            let regimes = try p.decode([String].self, forKey: .regimes)
            let sojourns = try p.decode([Double].self, forKey: .meanSojourn)
            guard sojourns.count == regimes.count else {
                throw DecodingError.dataCorruptedError(
                    forKey: .meanSojourn, in: p, debugDescription: "\(sojourns.count) sojourns for \(regimes.count) regimes; give one per regime")
            }
            let jumps = try p.decodeIfPresent([[Double]].self, forKey: .jumpProbabilities)
            let initial = try p.decodeIfPresent(String.self, forKey: .initial)
            if let initial, !regimes.contains(initial) {
                throw DecodingError.dataCorruptedError(forKey: .initial, in: p, debugDescription: ConfigChoice.invalid(initial, valid: regimes))
            }
            let targetEntries = try p.nestedContainer(keyedBy: ConfigKey.self, forKey: .targets)
            var targets: [(name: String, states: [String])] = []
            for key in targetEntries.allKeys {
                let states = try targetEntries.decode([String].self, forKey: key)
                guard states.count == regimes.count else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: targetEntries,
                        debugDescription: "\(states.count) states for \(regimes.count) regimes; give the target's state in each regime")
                }
                targets.append((key.stringValue, states))
            }
            if kind == .regime && targets.count != 1 {
                throw DecodingError.dataCorruptedError(
                    forKey: .targets, in: p, debugDescription: "a regime drives one target; use shared_regime for several")
            }
            let chain = try body.checked { () throws(StochasticsError) in try MarkovChain(meanSojournSeconds: sojourns, jumpProbabilities: jumps) }
            process = .regime(shared: kind == .sharedRegime, regimes: regimes, chain: chain, initial: initial, targets: targets)
        case .commonShock:
            let p = try body.container(keyedBy: CommonShockKeys.self)
            var list = try p.nestedUnkeyedContainer(forKey: .shocks)
            var shocks: [Shock] = []
            while !list.isAtEnd {
                let shock = try list.nestedContainer(keyedBy: ShockKeys.self)
                shocks.append(
                    Shock(
                        providers: try shock.decode([String].self, forKey: .providers), ratePerSecond: try shock.number(.rate, above: 0),
                        repairSeconds: try shock.decode(Distribution.self, forKey: .repair)))
            }
            process = .commonShock(shocks: shocks, downState: try p.decode(String.self, forKey: .downState))
        case .copula:
            let p = try body.container(keyedBy: CopulaKeys.self)
            let family: CopulaOutages.Family
            switch try p.choice(.family, default: CopulaFamily.gaussian) {
            case .gaussian: family = .gaussian
            case .t: family = .studentT(degreesOfFreedom: try p.number(.degreesOfFreedom, above: 0))
            }
            let probabilities = try p.nestedContainer(keyedBy: ConfigKey.self, forKey: .outageProbability)
            var outageProbability: [(provider: String, probability: Double)] = []
            for key in probabilities.allKeys {
                outageProbability.append((key.stringValue, try probabilities.number(key, above: 0, atMost: 1)))
            }
            process = .copula(
                family: family, correlation: try p.number(.correlation, atLeast: 0, atMost: 0.999), slotSeconds: try p.number(.slot, above: 0),
                outageProbability: outageProbability, downState: try p.decode(String.self, forKey: .downState))
        case .hawkes:
            let p = try body.container(keyedBy: HawkesKeys.self)
            let providers = try p.decode([String].self, forKey: .providers)
            let mu: Double = try p.number(.baseRate, above: 0)
            let alpha: Double = try p.number(.excitation, atLeast: 0)
            let beta: Double = try p.number(.decay, above: 0)
            let repair = try p.decode(Distribution.self, forKey: .repair)
            // Checked now (an exploding process is a spec error, not a run-time one).
            _ = try body.checked { () throws(StochasticsError) in
                try HawkesIncidents(
                    baseRatePerSecond: mu, excitation: alpha, decayPerSecond: beta, repairSeconds: repair, targetCount: providers.count,
                    stream: RandomStream(name: "validation", seed: 0, replication: 0))
            }
            process = .hawkes(
                providers: providers, baseRatePerSecond: mu, excitation: alpha, decayPerSecond: beta, repairSeconds: repair,
                downState: try p.decode(String.self, forKey: .downState))
        case .script:
            var list = try body.unkeyedContainer()
            var windows: [ScriptWindow] = []
            while !list.isAtEnd {
                let window = try list.nestedContainer(keyedBy: WindowKeys.self)
                windows.append(
                    ScriptWindow(
                        provider: try window.decode(String.self, forKey: .provider), from: try window.decode(ClockTime.self, forKey: .from),
                        to: try window.decode(ClockTime.self, forKey: .to), state: try window.decode(String.self, forKey: .state)))
            }
            process = .script(windows)
        }
    }
}

extension DegradationSpec {
    /// The process wired to `providers` (by name) and the gateway's states; `startOfDay` is
    /// `run.start_time` in seconds after midnight, which script times are relative to.
    public func binding(
        providers: [ProviderSpec], gatewayStates: [GatewayHealthSpec], startOfDay: Double?
    ) throws(ConfigFinding) -> DegradationBinding {
        let bodyPath = "\(path).\(kind.rawValue)"
        let providerNames = providers.map(\.name)
        func providerIndex(_ provider: String, _ at: String) throws(ConfigFinding) -> Int {
            guard let index = providerNames.firstIndex(of: provider) else {
                throw ConfigFinding(path: at, message: NameSuggestion.unknown("provider", provider, in: providerNames, label: "providers"))
            }
            return index
        }
        func stateIndex(_ state: String, of provider: String, _ at: String) throws(ConfigFinding) -> Int {
            let states = providers[try providerIndex(provider, at)].states.map(\.name)
            guard let index = states.firstIndex(of: state) else {
                throw ConfigFinding(
                    path: at, message: "provider '\(provider)' has no state '\(state)'; its states: \(states.joined(separator: ", "))")
            }
            return index
        }
        func outages(_ names: [String], downState: String) throws(ConfigFinding) -> (targets: [HealthTarget], maps: [[Int]]) {
            var targets: [HealthTarget] = []
            var maps: [[Int]] = []
            for provider in names {
                targets.append(.provider(try providerIndex(provider, bodyPath)))
                maps.append([0, try stateIndex(downState, of: provider, "\(bodyPath).down_state")])
            }
            return (targets, maps)
        }

        switch process {
        case .twoState(let provider, let mtbf, let mttr, let downState):
            _ = try providerIndex(provider, "\(bodyPath).provider")
            let (targets, maps) = try outages([provider], downState: downState)
            return DegradationBinding(name: name, targets: targets, stateMaps: maps) { stream throws(StochasticsError) in
                try TwoStateOutages(mtbfSeconds: mtbf, mttrSeconds: mttr, stream: stream)
            }
        case .regime(_, let regimes, let chain, let initial, let entries):
            var targets: [HealthTarget] = []
            var maps: [[Int]] = []
            for (target, states) in entries {
                let at = "\(bodyPath).targets.\(target)"
                if target == "gateway" {
                    targets.append(.gateway)
                    var map: [Int] = []
                    for state in states {
                        guard let index = gatewayStates.firstIndex(where: { $0.name == state }) else {
                            throw ConfigFinding(
                                path: at,
                                message: "the gateway has no state '\(state)'; its states: \(gatewayStates.map(\.name).joined(separator: ", "))")
                        }
                        map.append(index)
                    }
                    maps.append(map)
                } else {
                    targets.append(.provider(try providerIndex(target, "\(bodyPath).targets")))
                    var map: [Int] = []
                    for state in states { map.append(try stateIndex(state, of: target, at)) }
                    maps.append(map)
                }
            }
            let initialIndex = initial.flatMap { regimes.firstIndex(of: $0) }
            let identity = targets.indices.map { _ in Array(0..<regimes.count) }
            return DegradationBinding(name: name, targets: targets, stateMaps: maps) { stream throws(StochasticsError) in
                try MarkovRegime(chain: chain, stateMaps: identity, initialRegime: initialIndex, stream: stream)
            }
        case .commonShock(let shocks, let downState):
            var involved: [String] = []
            for (index, shock) in shocks.enumerated() {
                for provider in shock.providers {
                    _ = try providerIndex(provider, "\(bodyPath).shocks[\(index)].providers")
                    if !involved.contains(provider) { involved.append(provider) }
                }
            }
            let (targets, maps) = try outages(involved, downState: downState)
            let resolved = shocks.map {
                CommonShockOutages.Shock(
                    targets: $0.providers.map { involved.firstIndex(of: $0)! }, ratePerSecond: $0.ratePerSecond, repairSeconds: $0.repairSeconds)
            }
            let count = involved.count
            return DegradationBinding(name: name, targets: targets, stateMaps: maps) { stream throws(StochasticsError) in
                try CommonShockOutages(targetCount: count, shocks: resolved, stream: stream)
            }
        case .copula(let family, let rho, let slot, let probabilities, let downState):
            for (provider, _) in probabilities { _ = try providerIndex(provider, "\(bodyPath).outage_probability") }
            let (targets, maps) = try outages(probabilities.map(\.provider), downState: downState)
            let marginals = probabilities.map(\.probability)
            return DegradationBinding(name: name, targets: targets, stateMaps: maps) { stream throws(StochasticsError) in
                try CopulaOutages(outageProbabilities: marginals, correlation: rho, family: family, slotSeconds: slot, stream: stream)
            }
        case .hawkes(let names, let mu, let alpha, let beta, let repair, let downState):
            for provider in names { _ = try providerIndex(provider, "\(bodyPath).providers") }
            let (targets, maps) = try outages(names, downState: downState)
            let count = names.count
            return DegradationBinding(name: name, targets: targets, stateMaps: maps) { stream throws(StochasticsError) in
                try HawkesIncidents(
                    baseRatePerSecond: mu, excitation: alpha, decayPerSecond: beta, repairSeconds: repair, targetCount: count, stream: stream)
            }
        case .script(let windows):
            var involved: [String] = []
            var resolved: [ScriptedTimeline<SteadyHealth>.Window] = []
            var raw: [(provider: String, from: Double, to: Double, state: Int)] = []
            for (index, window) in windows.enumerated() {
                let at = "\(bodyPath)[\(index)]"
                _ = try providerIndex(window.provider, "\(at).provider")
                guard let from = window.from.secondsFromStart(startOfDay: startOfDay) else {
                    throw ConfigFinding(path: "\(at).from", message: "must be a time of day below 24:00 when run.start_time is set")
                }
                guard let to = window.to.secondsFromStart(startOfDay: startOfDay) else {
                    throw ConfigFinding(path: "\(at).to", message: "must be a time of day below 24:00 when run.start_time is set")
                }
                let state = try stateIndex(window.state, of: window.provider, "\(at).state")
                if to <= from {
                    throw ConfigFinding(path: at, message: "'to' (\(ConfigNumber.text(to)) s) must come after 'from' (\(ConfigNumber.text(from)) s)")
                }
                if !involved.contains(window.provider) { involved.append(window.provider) }
                raw.append((window.provider, from, to, state))
            }
            var targets: [HealthTarget] = []
            for provider in involved { targets.append(.provider(try providerIndex(provider, bodyPath))) }
            resolved = raw.map { .init(startSeconds: $0.from, endSeconds: $0.to, target: involved.firstIndex(of: $0.provider)!, state: $0.state) }
            let windowsToRun = resolved
            let count = involved.count
            return DegradationBinding(name: name, targets: targets) { _ throws(StochasticsError) in
                try ScriptedTimeline(base: try SteadyHealth(targetCount: count), windows: windowsToRun)
            }
        }
    }
}
