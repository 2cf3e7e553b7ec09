import Foundation
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Takes the spend ledger's rows to PostgreSQL, a service of the gateway's group: every spool
/// interval the rows settled since are written to the local spool (SQLite, on the blocking
/// thread pool), and every flush interval the spool is shipped to the database in batches,
/// each batch removed from the spool only once the database has committed it. While the
/// database is down, rows wait in the spool (routing never waits for it) and the next
/// successful flush ships them. At shutdown, after the server has drained, the last rows are
/// spooled and one last flush is tried; what it cannot ship waits in the spool for the next
/// start. What a SIGKILL loses: the rows settled since the last spool write (one spool
/// interval, 0.2 s by default).
struct LedgerShipper: Service {
    let recorder: SpendLedgerRecorder
    let spool: LedgerSpool
    let database: PostgresLedger
    let metrics: GatewayMetrics
    let spoolInterval: Duration
    let flushInterval: Duration
    /// What `/readyz` says of the ledger.
    let status = LedgerStatus()
    /// Rows shipped in one statement.
    static let batchRows = 2_000

    func run() async throws {
        // Two loops: spooling never waits behind a database that is slow to answer.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await Self.every(spoolInterval) { await spoolPending() } }
            group.addTask {
                await flush()
                await Self.every(flushInterval) { await flush() }
            }
        }
        await spoolPending()
        await flush()
        await database.close()
    }

    /// `body` every `interval` until the service group shuts down. After a failed flush the
    /// next try waits a flush interval too: a database that is down is not asked again at once.
    private static func every(_ interval: Duration, _ body: () async -> Void) async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            await body()
        }
    }

    /// The rows settled since the last call, into the spool.
    func spoolPending() async {
        let rows = recorder.take()
        guard !rows.isEmpty else { return }
        do {
            try await NIOThreadPool.singleton.runIfActive { try spool.append(rows) }
        } catch {
            // The spool cannot take them (a full disk): they go back in memory, first, and the
            // next interval tries again.
            recorder.putBack(rows)
            FileHandle.standardError.write(Data("brownout-gateway: could not write the ledger's spool \(spool.path): \(error)\n".utf8))
        }
    }

    /// Ships the spool to the database, batch after batch, until it is empty or the database
    /// fails; returns whether the database took everything.
    @discardableResult
    func flush() async -> Bool {
        var up = true
        do {
            try await database.ensureConnected()
        } catch {
            up = false
        }
        while up {
            let batch: (rows: [SpendLedgerRow], through: Int64)
            do {
                batch = try await NIOThreadPool.singleton.runIfActive { try spool.oldest(Self.batchRows) }
            } catch {
                up = false
                break
            }
            guard !batch.rows.isEmpty else { break }
            do {
                try await database.insert(batch.rows)
            } catch {
                up = false
                break
            }
            do {
                try await NIOThreadPool.singleton.runIfActive { try spool.remove(through: batch.through) }
                metrics.ledgerShipped(rows: batch.rows.count)
            } catch {
                // Shipped, still in the spool: shipped again later and stored once.
                break
            }
        }
        let waiting = (try? await NIOThreadPool.singleton.runIfActive { try spool.count() }) ?? 0
        metrics.ledgerState(spooled: waiting, databaseUp: up)
        status.set(spooled: waiting, databaseUp: up)
        return up
    }
}

/// The ledger's state as of the last flush: whether the database took everything, and the
/// rows waiting in the spool.
final class LedgerStatus: Sendable {
    private let state = Mutex<(spooled: Int, databaseUp: Bool)?>(nil)

    func set(spooled: Int, databaseUp: Bool) { state.withLock { $0 = (spooled, databaseUp) } }

    /// One line for `/readyz`: routing goes on whatever the database does.
    var line: String {
        guard let (spooled, up) = state.withLock({ $0 }) else { return "ledger: connecting to the database" }
        if up { return "ledger: database up, \(spooled) rows spooled" }
        return "ledger: database unreachable, \(spooled) rows spooled until it answers (routing goes on)"
    }
}
