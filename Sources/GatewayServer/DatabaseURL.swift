import Foundation

/// A PostgreSQL URL, `postgres://user:password@host:port/database?sslmode=disable|prefer|require`
/// (or `postgresql://`), as libpq and every platform's secret store write it.
struct DatabaseURL: Sendable, Equatable {
    enum TLSMode: String, Sendable, CaseIterable { case disable, prefer, require }

    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var tls: TLSMode

    /// The URL's parts, or a message saying what is wrong (never the password).
    static func parse(_ text: String) -> Result<DatabaseURL, GatewayStartError> {
        func failure(_ reason: String) -> Result<DatabaseURL, GatewayStartError> {
            .failure(GatewayStartError("the database URL \(reason) (expected postgres://user:password@host:5432/database)"))
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else { return failure("is not a postgres:// URL") }
        guard let host = components.host, !host.isEmpty else { return failure("names no host") }
        guard let user = components.user, !user.isEmpty else { return failure("names no user") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { return failure("names no database") }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] where item.name == "sslmode" {
            switch item.value ?? "" {
            case "disable", "allow": tls = .disable
            case "prefer": tls = .prefer
            case "require", "verify-ca", "verify-full": tls = .require
            default: return failure("has sslmode '\(item.value ?? "")'; valid: disable, prefer, require")
            }
        }
        return .success(
            DatabaseURL(
                host: host.trimmingCharacters(in: ["[", "]"]), port: components.port ?? 5432, user: user.removingPercentEncoding ?? user,
                password: components.password.map { $0.removingPercentEncoding ?? $0 }, database: database, tls: tls))
    }
}
