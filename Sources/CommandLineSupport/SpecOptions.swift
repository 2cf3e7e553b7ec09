import ArgumentParser

/// The spec argument and `--set` overrides shared by `validate` and `run`.
public struct SpecOptions: ParsableArguments {
    @Argument(help: "The experiment spec (YAML).")
    public var spec: String

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("Override a spec field, e.g. --set teams.search.sdk_retries=2 (repeatable).", valueName: "path=value"))
    public var overrides: [String] = []

    public init() {}
}
