import GRDB
import Logging

/// Copies a SQLite database's write-ahead log into its file about once an `interval`, on a
/// connection of its own: the replica's and the sync server's SQLite store.
///
/// Both open their database with `wal_autocheckpoint = 0`. SQLite's automatic checkpoint
/// runs inside whichever commit crosses its threshold and syncs the file there, so that
/// one write (and everything queued behind it) waits; a passive checkpoint never takes the
/// write lock, so writes go on meanwhile. Checkpointing stops with ``stop()`` or when the
/// checkpointer goes away; closing the database's last connection checkpoints the rest.
package final class WALCheckpointer: Sendable {
    private let task: Task<Void, Never>

    package init(path: String, configuration: Configuration, interval: Duration = .seconds(1), logger: Logger) {
        task = Task.detached(priority: .utility) {
            let connection: DatabaseQueue
            do {
                connection = try DatabaseQueue(path: path, configuration: configuration)
            } catch {
                logger.error(
                    "cannot open the checkpoint connection; SQLite checkpoints when the database closes",
                    metadata: ["path": "\(path)", "error": "\(error)"])
                return
            }
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                _ = try? await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            }
            try? connection.close()
        }
    }

    /// Stops checkpointing and waits until its connection is closed.
    package func stop() async {
        task.cancel()
        await task.value
    }

    deinit { task.cancel() }
}
