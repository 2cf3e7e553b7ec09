import ArgumentParser

@main
struct Brownout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brownout",
        abstract: "What happens to your users, budget and on-call when LLM providers degrade together.",
        version: "0.2.0",
        subcommands: [
            RunCommand.self, ValidateCommand.self, ReplayCommand.self, FitCommand.self, SweepCommand.self, MergeCommand.self,
            SizeFallbackCommand.self, SampleCommand.self, ExportCommand.self, TwinCommand.self, IncidentCommand.self,
        ]
    )
}
