import AsyncHTTPClient
import ConfigSchema
import Foundation
import Hummingbird
import Logging
import NIOCore
import RoutingCore
import Synchronization
import HTTPTypes

/// The HTTP face of the gateway: OpenAI's `POST /v1/chat/completions` and `GET /v1/models`,
/// Anthropic's `POST /v1/messages`, plus `/healthz`, `/readyz` and `/metrics`.
public enum GatewayApplication {
    public static func make(
        core: GatewayCore, deployment: DeploymentConfig, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: GatewayRequestContext.self)
        router.post("/v1/chat/completions") { request, context -> Response in
            await answer(request, context: context, api: .openai, core: core, deployment: deployment)
        }
        router.post("/v1/messages") { request, context -> Response in
            await answer(request, context: context, api: .anthropic, core: core, deployment: deployment)
        }
        router.get("/v1/models") { request, _ -> Response in
            guard let team = core.keys.team(forAuthorization: authorization(request.headers)) else {
                return refusal(GatewayError.unauthorized, core: core, received: .now)
            }
            let models = core.models.filter { deployment.team(team, mayUse: $0) }.map {
                ["id": $0, "object": "model", "created": 0, "owned_by": "brownout"] as [String: Any]
            }
            let data = (try? JSONSerialization.data(withJSONObject: ["object": "list", "data": models], options: [.sortedKeys])) ?? Data()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        // Ready: serving. 503 once a graceful shutdown has begun. With the PostgreSQL ledger
        // it also says how the ledger stands; a database that is down does not stop routing,
        // so it does not make the replica unready.
        router.get("/readyz") { _, _ in
            let ledger = (core.ledgerShipper.map { "\($0.status.line)\n" } ?? "") + (core.budgetLeases.map { "\($0.line)\n" } ?? "")
            if core.isDraining {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "draining: shutting down\n" + ledger)))
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n" + ledger)))
        }
        // With `metrics_listen`, /metrics (team names and spend) is served there alone.
        if deployment.metricsListen == nil {
            router.get("/metrics") { _, _ in metrics(core) }
        }
        return Application(
            router: router, configuration: .init(address: .hostname(deployment.host, port: deployment.port), serverName: "brownout-gateway"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    /// Answers one request of `api`: the team from its key, the body read and parsed, then
    /// routed; every refusal in the client's API's shape.
    static func answer(
        _ request: Request, context: GatewayRequestContext, api: APIProtocol, core: GatewayCore, deployment: DeploymentConfig
    ) async -> Response {
        let received = ContinuousClock.now
        func whole(_ error: GatewayError) -> Response { refusal(error, api: api, core: core, received: received) }
        let key: String?
        switch api {
        case .openai: key = authorization(request.headers)
        case .anthropic: key = apiKey(request.headers).map { "Bearer \($0)" } ?? authorization(request.headers)
        }
        guard let team = core.keys.team(forAuthorization: key) else {
            return whole(api == .anthropic ? GatewayError.unauthorizedMessages : GatewayError.unauthorized)
        }
        let body: ByteBuffer
        let hold: BodyHold
        do throws(RequestBodyReader.Failure) {
            (body, hold) = try await RequestBodyReader.body(of: request, bounds: core.bodyBounds, allowance: core.bodyAllowance)
        } catch {
            core.metrics.bodyRefused(error.reason)
            return whole(error.error)
        }
        let client: ClientRequest
        do throws(GatewayError) {
            client = api == .anthropic ? try ClientRequest(messagesBody: body) : try ClientRequest(body: body)
        } catch {
            return whole(error)
        }
        guard deployment.team(team, mayUse: client.model) || !core.models.contains(client.model) else {
            return whole(
                GatewayError(
                    status: 403, message: "team '\(team)' may not use model '\(client.model)'", type: "invalid_request_error",
                    code: "model_not_allowed"))
        }
        // The body is held (against the allowance) until the answer is written.
        let answer = await RequestCoordinator.answer(client, team: team, core: core, connection: context.channel)
        switch answer {
        case .whole(let status, let headers, let body):
            withExtendedLifetime(hold) {}
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: body))
        case .stream(let headers, let stream):
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    defer { withExtendedLifetime(hold) {} }
                    do {
                        for await frame in stream.frames {
                            try await writer.write(frame)
                            stream.written(frame.readableBytes)
                        }
                        try await writer.finish(nil)
                    } catch {
                        stream.clientWentAway()
                        throw error
                    }
                })
        }
    }

    /// The request's one `x-api-key` value (nil when it has none or several).
    static func apiKey(_ headers: HTTPFields) -> String? {
        onlyValue(of: HTTPField.Name("x-api-key")!, in: headers)
    }

    /// The separate listener of `/metrics` (`deployment.metrics_listen`), for a network only the
    /// scraper reaches: `GET /metrics` and nothing else.
    public static func makeMetrics(
        core: GatewayCore, host: String, port: Int, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: GatewayRequestContext.self)
        router.get("/metrics") { _, _ in metrics(core) }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "brownout-gateway-metrics"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    /// `/metrics`: the Prometheus text, the router's gauges read under its lock.
    static func metrics(_ core: GatewayCore) -> Response {
        let (breakers, ledger, balances) = core.router.withLock { slot in
            _ = slot.tick()
            return (
                core.config.targetIDs.map { slot.router.breakerState(of: $0) }, slot.router.ledger,
                core.config.routeIDs.map { slot.router.retryBudgetBalance(of: $0) }
            )
        }
        let text = core.metrics.render(breakers: breakers, ledger: ledger, retryBudgets: balances)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The request's one `Authorization` value (nil when it has none or several). Read field by
    /// field: the headers' subscript joins every value of a name into a new string.
    static func authorization(_ headers: HTTPFields) -> String? {
        onlyValue(of: .authorization, in: headers)
    }

    /// The one value of field `name` (nil when it has none or several), read field by field.
    static func onlyValue(of name: HTTPField.Name, in headers: HTTPFields) -> String? {
        var value: String?
        var count = 0
        for field in headers where field.name == name {
            value = field.value
            count += 1
        }
        return count == 1 ? value : nil
    }

    /// A refusal before routing, with the same explaining headers as every answer.
    static func refusal(_ error: GatewayError, api: APIProtocol = .openai, core: GatewayCore, received: ContinuousClock.Instant) -> Response {
        return Response(
            status: .init(code: error.status),
            headers: core.explaining.fields(
                requestID: core.requestID(), attempts: 0, overhead: received.duration(to: .now),
                answeredBy: nil, contentType: ExplainingHeaders.json),
            body: .init(byteBuffer: error.body(for: api)))
    }
}
