import AsyncHTTPClient
import ConfigSchema
import Foundation
import Hummingbird
import Logging
import NIOCore
import RoutingCore
import ServiceLifecycle
import UnixSignals

/// Runs the gateway for a loaded spec until SIGTERM or SIGINT: then it stops accepting, lets
/// requests in flight finish, saves spend and closes the decision log.
public enum GatewayServer {
    public static func serve(_ spec: GatewaySpec) async throws {
        let deployment = spec.deployment
        var logger = Logger(label: "brownout-gateway")
        logger.logLevel = .warning
        var clientConfiguration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)), decompression: .disabled)
        // No tracer: a span per upstream request costs time on every request and goes nowhere.
        clientConfiguration.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let core: GatewayCore
        do {
            let router = try Router(config: spec.router, clock: MonotonicClock(), wallClock: SystemWallClock(), generator: SystemRandomNumberGenerator())
            core = try GatewayCore(spec: spec, client: client, router: router, environment: ProcessInfo.processInfo.environment)
        } catch {
            try? await client.shutdown()
            throw error
        }
        let app = GatewayApplication.make(core: core, deployment: deployment, logger: logger) { port in
            FileHandle.standardOutput.write(Data("listening on \(deployment.host):\(port)\n".utf8))
        }
        let saver = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                core.saveSpend()
            }
        }
        do {
            var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            configuration.maximumGracefulShutdownDuration = .milliseconds(Int64(deployment.shutdownGraceSeconds * 1_000))
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            logger.error("gateway stopped: \(error)")
        }
        saver.cancel()
        core.saveSpend()
        core.close()
        try await client.shutdown()
    }
}
