import HTTPTypes
import Logging
import Testing
@testable import GatewayServer

/// The key → team lookup every request starts with, and the header it reads.
@Suite("API keys and the Authorization header")
struct APIKeysTests {
    static let keys = APIKeys(hashes: [(team: "search", sha256: APIKeys.hash("sk-search")), (team: "batch", sha256: APIKeys.hash("sk-batch"))])

    @Test("a Bearer key in any case, with blanks around it, finds its team; anything else finds none")
    func bearer() {
        #expect(Self.keys.team(forAuthorization: "Bearer sk-search") == "search")
        #expect(Self.keys.team(forAuthorization: "bearer sk-batch") == "batch")
        #expect(Self.keys.team(forAuthorization: "BEARER \t sk-search \t") == "search")
        for refused in [
            nil, "", "Bearer", "Bearer ", "Bearer    ", "Basic sk-search", "Bearer sk-searc", "Bearer sk-search2", "sk-search",
            "Bearer\u{0}sk-search", "Bearersk-search",
        ] as [String?] {
            #expect(Self.keys.team(forAuthorization: refused) == nil, "\(String(describing: refused))")
        }
    }

    @Test("one Authorization header is read; none or several is no key")
    func header() {
        #expect(GatewayApplication.authorization([.authorization: "Bearer sk-search"]) == "Bearer sk-search")
        #expect(GatewayApplication.authorization([.contentType: "application/json"]) == nil)
        var twice: HTTPFields = [.authorization: "Bearer sk-search"]
        twice.append(HTTPField(name: .authorization, value: "Bearer sk-batch"))
        #expect(GatewayApplication.authorization(twice) == nil)
    }

    @Test("the log handler keeps metadata as set, and its level")
    func logHandler() {
        var logger = Logger(label: "test", factory: { GatewayLogHandler(label: $0) })
        logger.logLevel = .warning
        logger[metadataKey: "hb.request.id"] = "42"
        #expect(logger[metadataKey: "hb.request.id"] == "42" && logger.logLevel == .warning)
        logger[metadataKey: "hb.request.id"] = nil
        #expect(logger[metadataKey: "hb.request.id"] == nil)
    }
}
