import ConfigSchema

/// The `variants:` section of a spec: named sets of overrides applied to the spec as written.
///
///     variants:
///       bigger-pool: {pools.h100-llama-70b.replicas: 4}
///       grpc-budget: {routes.chat.retry_budget: {kind: grpc}}
///
/// Every variant runs the same replications with the same seed, so it sees the same
/// arrivals and the same provider health (common random numbers from the named streams);
/// `run.*` is shared and cannot be varied.
public struct Variant: Sendable {
    public let name: String
    public let spec: ExperimentSpec
}

enum VariantsParser {
    /// Splits `variants:` off the document and builds the spec of each variant.
    static func variants(of document: SpecValue) throws(SpecError) -> (base: SpecValue, variants: [(String, SpecValue)]) {
        guard case .map(let entries, let location) = document,
            let section = entries.first(where: { $0.key == "variants" })
        else { return (document, []) }
        let base = SpecValue.map(entries.filter { $0.key != "variants" }, location)
        guard case .map(let named, _) = section.value else {
            throw SpecError(section.value.location, "variants", "must be a map of variant names to overrides")
        }
        var result: [(String, SpecValue)] = []
        for (name, nameLocation, value) in named {
            if name == "baseline" {
                throw SpecError(nameLocation, "variants.baseline", "'baseline' is the spec as written; give the variant another name")
            }
            guard case .map(let overrides, _) = value else {
                throw SpecError(value.location, "variants.\(name)", "must be a map of dotted key paths to values, e.g. {pools.gpu.replicas: 4}")
            }
            var variant = base
            for (path, pathLocation, override) in overrides {
                let keys = path.split(separator: ".").map(String.init)
                if keys.first == "run" || keys.first == "variants" || keys.first == "name" {
                    throw SpecError(
                        pathLocation, "variants.\(name).\(path)", "variants share the run settings and the name; set \(path) outside variants")
                }
                variant = variant.setting(keys[...], to: override)
            }
            result.append((name, variant))
        }
        return (base, result)
    }
}
