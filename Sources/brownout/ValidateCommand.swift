import ArgumentParser
import CommandLineSupport
import Experiments
import GatewaySim
import RoutingCore

/// `brownout validate`: check a spec and show RoutingCore's lint findings, without running.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check an experiment spec and print the router's lint findings."
    )

    @OptionGroup var options: SpecOptions

    func run() throws {
        let spec: ExperimentSpec
        let variants: [Variant]
        do {
            (_, spec, variants) = try Experiment.load(path: options.spec, overrides: options.overrides)
        } catch {
            throw CommandError(error.description)
        }
        print("\(options.spec): valid — \(Experiment.overview(spec, variants: variants))")
        for route in spec.world.router.routes {
            print(
                "route \(route.name): \(route.timeouts.summary)"
                    + (route.streamCommit.holds ? "; a stream reaches the client \(route.streamCommit.summary)" : ""))
        }
        if spec.warnings.isEmpty {
            print("no lint findings")
        } else {
            for warning in spec.warnings { print("warning: \(warning)") }
        }
    }
}
