/// A route, team, target or budgeted API key of a router's config, as the router knows it.
/// Get one by name from ``RouterConfig`` or ``Router`` (an unknown name is an error) and turn
/// it back into its name with `name(of:)`; `index` is its position in the config's list, for
/// a caller that keeps per-target state in an array.
public struct RouteID: Hashable, Comparable, Sendable {
    @usableFromInline let raw: Int32
    @inlinable init(raw: Int32) { self.raw = raw }
    public var index: Int { Int(raw) }
    public static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }
}

/// A team of a router's config (see ``RouteID``).
public struct TeamID: Hashable, Comparable, Sendable {
    @usableFromInline let raw: Int32
    @inlinable init(raw: Int32) { self.raw = raw }
    public var index: Int { Int(raw) }
    public static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }
}

/// A provider or local pool of a router's config, in the order `config.targets` lists them
/// (see ``RouteID``).
public struct TargetID: Hashable, Comparable, Sendable {
    @usableFromInline let raw: Int32
    @inlinable init(raw: Int32) { self.raw = raw }
    public var index: Int { Int(raw) }
    public static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }
}

/// An API key that has a budget of its own (`key_budgets.NAME`; see ``RouteID``).
public struct KeyID: Hashable, Comparable, Sendable {
    @usableFromInline let raw: Int32
    @inlinable init(raw: Int32) { self.raw = raw }
    public var index: Int { Int(raw) }
    public static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }
}

/// A name the router's config does not have.
public struct RoutingNameError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case route, team, target, key
    }

    public let kind: Kind
    public let name: String
    public let known: [String]

    public init(kind: Kind, name: String, known: [String]) {
        self.kind = kind
        self.name = name
        self.known = known
    }

    public var description: String {
        if name.isEmpty { return "a \(kind.rawValue) is required; \(kind.rawValue)s: \(known.joined(separator: ", "))" }
        return NameSuggestion.unknown(kind.rawValue, name, in: known, label: "\(kind.rawValue)s")
    }
}

extension RouterConfig {
    /// The API keys with budgets of their own, in config order.
    public var budgetedKeys: [String] {
        var keys: [String] = []
        for budget in budgets {
            if case .key(let name) = budget.scope, !keys.contains(name) { keys.append(name) }
        }
        return keys
    }

    public func route(named name: String) throws(RoutingNameError) -> RouteID {
        guard let index = routes.firstIndex(where: { $0.name == name }) else {
            throw RoutingNameError(kind: .route, name: name, known: routes.map(\.name))
        }
        return RouteID(raw: Int32(index))
    }

    public func team(named name: String) throws(RoutingNameError) -> TeamID {
        guard let index = teams.firstIndex(where: { $0.name == name }) else {
            throw RoutingNameError(kind: .team, name: name, known: teams.map(\.name))
        }
        return TeamID(raw: Int32(index))
    }

    public func target(named name: String) throws(RoutingNameError) -> TargetID {
        guard let index = targets.firstIndex(where: { $0.name == name }) else {
            throw RoutingNameError(kind: .target, name: name, known: targets.map(\.name))
        }
        return TargetID(raw: Int32(index))
    }

    /// A key with a budget of its own; a key without one is not the router's business (pass
    /// no key for it).
    public func key(named name: String) throws(RoutingNameError) -> KeyID {
        let keys = budgetedKeys
        guard let index = keys.firstIndex(of: name) else { throw RoutingNameError(kind: .key, name: name, known: keys) }
        return KeyID(raw: Int32(index))
    }

    public func name(of route: RouteID) -> String { routes[route.index].name }
    public func name(of team: TeamID) -> String { teams[team.index].name }
    public func name(of target: TargetID) -> String { targets[target.index].name }
    public func name(of key: KeyID) -> String { budgetedKeys[key.index] }

    /// Every target, in order.
    public var targetIDs: [TargetID] { targets.indices.map { TargetID(raw: Int32($0)) } }

    /// Every route, in order.
    public var routeIDs: [RouteID] { routes.indices.map { RouteID(raw: Int32($0)) } }

    /// Every team, in order.
    public var teamIDs: [TeamID] { teams.indices.map { TeamID(raw: Int32($0)) } }
}
