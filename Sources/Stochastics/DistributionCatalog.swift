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

    /// Every kind and the parameter sets it accepts (a kind may have several forms).
    public static let kinds: [(name: String, forms: [Form])] = [
        ("constant", [Form(required: ["value"], optional: [])]),
        ("uniform", [Form(required: ["lower", "upper"], optional: [])]),
        ("exponential", [Form(required: ["mean"], optional: []), Form(required: ["rate"], optional: [])]),
        ("normal", [Form(required: ["mean", "sd"], optional: ["lower", "upper"])]),
        ("lognormal", [Form(required: ["mu", "sigma"], optional: []), Form(required: ["median", "p99"], optional: [])]),
        ("gamma", [Form(required: ["shape", "scale"], optional: [])]),
        ("weibull", [Form(required: ["shape", "scale"], optional: [])]),
        ("pareto", [Form(required: ["shape", "scale"], optional: [])]),
        ("beta", [Form(required: ["alpha", "beta"], optional: [])]),
        ("bernoulli", [Form(required: ["p"], optional: [])]),
    ]

    /// The distribution `kind` with `parameters`; `empirical` takes `values` or a CSV
    /// `file` and `column` instead of numbers and has its own entry point.
    public static func make(kind: String, parameters: [String: Double]) throws(StochasticsError) -> Distribution {
        guard let entry = kinds.first(where: { $0.name == kind }) else {
            let valid = (kinds.map(\.name) + ["empirical"]).joined(separator: ", ")
            throw StochasticsError("unknown distribution '\(kind)'; valid kinds are \(valid)")
        }
        let given = Set(parameters.keys)
        guard let form = entry.forms.first(where: { Set($0.required).isSubset(of: given) && given.isSubset(of: Set($0.required + $0.optional)) }) else {
            let accepted = entry.forms.map { form in
                (form.required + form.optional.map { "[\($0)]" }).joined(separator: " ")
            }.joined(separator: " | ")
            let allowed = Set(entry.forms.flatMap { $0.required + $0.optional })
            if let unknown = given.subtracting(allowed).sorted().first {
                throw StochasticsError("\(kind): unknown parameter '\(unknown)'; \(kind) takes \(accepted)")
            }
            if let form = entry.forms.first(where: { given.isSubset(of: Set($0.required + $0.optional)) }) {
                let missing = form.required.filter { !given.contains($0) }.map { "'\($0)'" }.joined(separator: ", ")
                throw StochasticsError("\(kind): missing parameter \(missing); \(kind) takes \(accepted)")
            }
            throw StochasticsError("\(kind): parameters \(given.sorted().joined(separator: ", ")) cannot be combined; \(kind) takes \(accepted)")
        }
        let p = { (name: String) in parameters[name]! }
        switch (kind, form.required) {
        case ("constant", _): return try .constant(p("value"))
        case ("uniform", _): return try .uniform(lower: p("lower"), upper: p("upper"))
        case ("exponential", ["mean"]): return try .exponential(mean: p("mean"))
        case ("exponential", _):
            try StochasticsError.requirePositive(p("rate"), "exponential: rate")
            return try .exponential(mean: 1 / p("rate"))
        case ("normal", _): return try .normal(mean: p("mean"), standardDeviation: p("sd"), lower: parameters["lower"], upper: parameters["upper"])
        case ("lognormal", ["mu", "sigma"]): return try .lognormal(mu: p("mu"), sigma: p("sigma"))
        case ("lognormal", _): return try .lognormal(median: p("median"), p99: p("p99"))
        case ("gamma", _): return try .gamma(shape: p("shape"), scale: p("scale"))
        case ("weibull", _): return try .weibull(shape: p("shape"), scale: p("scale"))
        case ("pareto", _): return try .pareto(shape: p("shape"), scale: p("scale"))
        case ("beta", _): return try .beta(alpha: p("alpha"), beta: p("beta"))
        default: return try .bernoulli(p: p("p"))
        }
    }
}
