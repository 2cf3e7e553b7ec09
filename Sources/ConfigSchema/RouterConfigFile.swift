import RoutingCore

/// A routing configuration on its own: the routing sections of the spec schema (`providers`,
/// `pools`, `gateway`, `routes`, `teams`, `key_budgets`) in YAML or JSON. A block copied from
/// an experiment spec means the same thing here.
extension RouterConfig {
    /// Decodes `text` strictly: an unknown key, a missing key, an impossible value or a
    /// config RoutingCore would refuse is an error naming file:line:column and the key path.
    public static func decode(yamlOrJSON text: String, file: String) throws(SpecError) -> RouterConfig {
        try decode(document: try SpecValue.parse(yaml: text, file: file))
    }

    /// Loads a config file (with its `include:` files) and decodes it strictly.
    public static func load(path: String) throws(SpecError) -> RouterConfig {
        try decode(document: try SpecDocument.load(path: path))
    }

    static func decode(document: SpecValue) throws(SpecError) -> RouterConfig {
        let decoder = SpecDecoder(document)
        let config = try decoder.decode(RouterConfig.self)
        try decoder.checkUnknownKeys()
        if let first = config.validate().errors.first { throw decoder.error(first) }
        return config
    }
}
