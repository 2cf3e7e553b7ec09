/// Builds distributions from a kind name and named parameters — the form users write in
/// specs and on the command line (`lognormal median=0.8 p99=4`).
///
/// Unknown kinds and parameters are errors that list what is valid, so a typo never
/// silently falls back to a default.
public enum DistributionCatalog {
    /// One way of parameterising a kind: its parameter names, which of them may be left out.
    public struct Form: Sendable {
        public let required: [String]
        public let optional: [String]
    }

    /// The parameter sets `kind` accepts (a kind may have several forms). `empirical` takes
    /// values or a CSV file instead of numbers and has its own entry points.
    public static func forms(of kind: DistributionKind) -> [Form] {
        switch kind {
        case .constant: return [Form(required: ["value"], optional: [])]
        case .uniform: return [Form(required: ["lower", "upper"], optional: [])]
        case .exponential: return [Form(required: ["mean"], optional: []), Form(required: ["rate"], optional: [])]
        case .normal: return [Form(required: ["mean", "sd"], optional: ["lower", "upper"])]
        case .lognormal: return [Form(required: ["mu", "sigma"], optional: []), Form(required: ["median", "p99"], optional: [])]
        case .gamma, .weibull, .pareto: return [Form(required: ["shape", "scale"], optional: [])]
        case .beta: return [Form(required: ["alpha", "beta"], optional: [])]
        case .bernoulli: return [Form(required: ["p"], optional: [])]
        case .empirical: return [Form(required: ["file", "column"], optional: []), Form(required: ["values"], optional: [])]
        }
    }

    /// The distribution named `kind` with `parameters`.
    public static func make(kind name: String, parameters: [String: Double]) throws(StochasticsError) -> Distribution {
        guard let kind = DistributionKind(rawValue: name) else {
            let valid = DistributionKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw StochasticsError("unknown distribution '\(name)'; valid kinds are \(valid)")
        }
        return try make(kind: kind, parameters: parameters)
    }

    /// The distribution `kind` with numeric `parameters` (every kind but `empirical`).
    public static func make(kind: DistributionKind, parameters: [String: Double]) throws(StochasticsError) -> Distribution {
        let name = kind.rawValue
        let given = Set(parameters.keys)
        let forms = forms(of: kind)
        guard kind != .empirical,
            let form = forms.first(where: { Set($0.required).isSubset(of: given) && given.isSubset(of: Set($0.required + $0.optional)) })
        else {
            let accepted = forms.map { form in
                (form.required + form.optional.map { "[\($0)]" }).joined(separator: " ")
            }.joined(separator: " | ")
            if kind == .empirical { throw StochasticsError("empirical: takes \(accepted), not numbers") }
            let allowed = Set(forms.flatMap { $0.required + $0.optional })
            if let unknown = given.subtracting(allowed).sorted().first {
                throw StochasticsError("\(name): unknown parameter '\(unknown)'; \(name) takes \(accepted)")
            }
            if let form = forms.first(where: { given.isSubset(of: Set($0.required + $0.optional)) }) {
                let missing = form.required.filter { !given.contains($0) }.map { "'\($0)'" }.joined(separator: ", ")
                throw StochasticsError("\(name): missing parameter \(missing); \(name) takes \(accepted)")
            }
            throw StochasticsError("\(name): parameters \(given.sorted().joined(separator: ", ")) cannot be combined; \(name) takes \(accepted)")
        }
        let p = { (name: String) in parameters[name]! }
        switch kind {
        case .constant: return try .constant(p("value"))
        case .uniform: return try .uniform(lower: p("lower"), upper: p("upper"))
        case .exponential:
            if form.required == ["mean"] { return try .exponential(mean: p("mean")) }
            try StochasticsError.requirePositive(p("rate"), "exponential: rate")
            return try .exponential(mean: 1 / p("rate"))
        case .normal: return try .normal(mean: p("mean"), standardDeviation: p("sd"), lower: parameters["lower"], upper: parameters["upper"])
        case .lognormal:
            if form.required == ["mu", "sigma"] { return try .lognormal(mu: p("mu"), sigma: p("sigma")) }
            return try .lognormal(median: p("median"), p99: p("p99"))
        case .gamma: return try .gamma(shape: p("shape"), scale: p("scale"))
        case .weibull: return try .weibull(shape: p("shape"), scale: p("scale"))
        case .pareto: return try .pareto(shape: p("shape"), scale: p("scale"))
        case .beta: return try .beta(alpha: p("alpha"), beta: p("beta"))
        case .bernoulli: return try .bernoulli(p: p("p"))
        case .empirical: preconditionFailure("empirical distributions have their own entry points")
        }
    }
}

/// The kinds of distribution, by the name specs and the command line use.
public enum DistributionKind: String, CaseIterable, Sendable {
    case constant, uniform, exponential, normal, lognormal, gamma, weibull, pareto, beta, bernoulli, empirical
}
