import Foundation
import GRDB

/// An SQLite file the gateway keeps (GRDB): its folder made if missing, the schema made if
/// missing, and a start error naming the spec's key when it cannot be opened.
enum SQLiteFile {
    static func open(path: String, key: String, schema: String) throws -> DatabaseQueue {
        try? FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        do {
            let database = try DatabaseQueue(path: path)
            try database.write { db in try db.execute(sql: schema) }
            return database
        } catch {
            throw GatewayStartError("\(key): cannot open '\(path)' as an SQLite database: \(error)")
        }
    }
}
