import AsyncHTTPClient
import ConfigSchema
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import RoutingCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Runs the gateway for a loaded spec until SIGTERM or SIGINT: then it stops accepting, lets
/// requests in flight finish, saves spend and closes the decision log.
public enum GatewayServer {
    /// HTTP/1.1 connections AsyncHTTPClient may open to one upstream host. The router's
    /// concurrency limits are the gateway's limits; the client's default (8 per host) would
    /// queue every attempt beyond the eighth inside the client, unseen by the router and
    /// counted as upstream latency (several targets often share a host: a local server, a
    /// provider's regional endpoint).
    static let upstreamConnectionsPerHost = 4_096

    /// `seed`: the router's randomness (nil: random, printed); `recordDirectory`: write a
    /// router trace there (`--record`); `routerTime`: the time the router lives in (`--time-scale` and the twin's clock options);
    /// `logLevel`: the least severe log message written (`--log-level`, `BROWNOUT_LOG_LEVEL`).
    public static func serve(
        _ spec: GatewaySpec, seed: UInt64? = nil, recordDirectory: String? = nil, routerTime: RouterTime = .realTime,
        logLevel: Logger.Level = .warning
    ) async throws {
        let deployment = spec.deployment
        var logger = Logger(label: "brownout-gateway", factory: { GatewayLogHandler(label: $0) })
        logger.logLevel = logLevel
        // The metrics listener's address is tried before anything starts: a port in use there
        // is one line, not the main server's teardown after a sibling failed.
        if let address = deployment.metricsListen, address.port != 0 {
            do {
                let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: address.host, port: address.port)
                    .get()
                try await channel.close()
            } catch {
                throw GatewayStartError("deployment.metrics_listen: cannot listen on \(address.host):\(address.port): \(Self.reason(error))")
            }
        }
        // Redirects are not followed: a chat completion is never answered by one, and following
        // it would send the request (and its API key) elsewhere; it fails as a server error.
        var clientConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)), decompression: .disabled)
        // No tracer: a span per upstream request costs time on every request and goes nowhere.
        clientConfiguration.tracing.tracer = nil
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = upstreamConnectionsPerHost
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let core: GatewayCore
        do {
            core = try GatewayCore(
                spec: spec, client: client, environment: ProcessInfo.processInfo.environment, seed: seed, recordDirectory: recordDirectory,
                routerTime: routerTime)
        } catch {
            try? await client.shutdown()
            throw error
        }
        let listening = Mutex(false)
        let app = GatewayApplication.make(core: core, deployment: deployment, logger: logger) { port in
            listening.withLock { $0 = true }
            var lines = "router seed \(core.seed)\n"
            if routerTime.factor != 1 { lines += "router clock \(routerTime.factor)× real time\n" }
            if let trace = core.trace { lines += "recording the router's calls to \(trace.path)\n" }
            FileHandle.standardOutput.write(Data((lines + "listening on \(deployment.host):\(port)\n").utf8))
        }
        let metricsListening = Mutex(false)
        let metricsApp = deployment.metricsListen.map { address in
            GatewayApplication.makeMetrics(core: core, host: address.host, port: address.port, logger: logger) { port in
                metricsListening.withLock { $0 = true }
                FileHandle.standardOutput.write(Data("metrics on \(address.host):\(port)\n".utf8))
            }
        }
        var failure: (any Error)?
        do {
            // Shut down in reverse order: the server drains its requests first, then the
            // periodic flush stops; the final save below is the last write.
            // The deadline is last: it hears of a shutdown first and starts the grace's clock.
            let grace = Duration.milliseconds(Int64(deployment.shutdownGraceSeconds * 1_000))
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
            if let shipper = core.ledgerShipper { services.append(.init(service: shipper)) }
            if let breakers = core.sharedBreakers { services.append(.init(service: breakers)) }
            if let membership = core.membership {
                let replicas = try ReplicaMembership(url: membership.url, replica: membership.replica, boot: membership.boot, core: core)
                // The replicas alive counted before the first request.
                await replicas.beat()
                services.append(.init(service: replicas))
            }
            if let leases = core.budgetLeases {
                // Every budget's first slice before the first request.
                await leases.renew(core: core)
                services.append(.init(service: BudgetLeaseRenewal(leases: leases, core: core)))
            }
            var configuration = ServiceGroupConfiguration(
                // The metrics listener stops after the main one: a scraper reads the drain.
                services: services
                    + [.init(service: PeriodicFlush(core: core))]
                    + (metricsApp.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? [])
                    + [.init(service: app), .init(service: ShutdownDeadline(core: core, grace: grace))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // The group's own escalation (cancelling every service) only after the requests cut
            // at the grace have had a moment to answer.
            configuration.maximumGracefulShutdownDuration = grace + .seconds(5)
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            failure = error
        }
        await core.close()
        try await client.shutdown()
        // A graceful shutdown returns; anything else is a failure, and a supervisor must read
        // it as one: a non-zero exit with one line.
        guard let failure else { return }
        guard listening.withLock({ $0 }) else {
            throw GatewayStartError("deployment.listen: cannot listen on \(deployment.host):\(deployment.port): \(Self.reason(failure))")
        }
        if let address = deployment.metricsListen, !metricsListening.withLock({ $0 }) {
            throw GatewayStartError("deployment.metrics_listen: cannot listen on \(address.host):\(address.port): \(Self.reason(failure))")
        }
        throw GatewayStartError("the gateway stopped: \(Self.reason(failure))")
    }

    /// What went wrong, in words: an operating-system error as its message ("Address already in use").
    static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return String(describing: error)
    }
}
