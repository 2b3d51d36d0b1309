import ArgumentParser
import DialogueServer
import DialogueSync
import Foundation
import Logging

/// Where the store lives: an embedded SQLite file in the data directory (default), or PostgreSQL.
struct StoreOptions: ParsableArguments {
    @Option(help: "Directory for the embedded SQLite store (env DIALOGUE_DATA_DIR).")
    var dataDir: String = ProcessInfo.processInfo.environment["DIALOGUE_DATA_DIR"] ?? "dialogue-data"

    @Option(help: "postgres://user:password@host:port/database to use PostgreSQL instead of SQLite (env DIALOGUE_DATABASE).")
    var database: String?

    /// Opens the configured store, failing fast with a clear message. The first open of a
    /// store makes the server's signing key (docs/TRUST.md), so every process over it,
    /// `serve` or `admin`, finds the same one.
    func open(logger: Logger) async throws -> any SyncStore {
        let store = try await openStore(logger: logger)
        do {
            _ = try await ServerAuthority(store: store).keys()
        } catch {
            try? await store.close()
            throw ValidationError("cannot read or create the server's key in the store: \(error)")
        }
        return store
    }

    private func openStore(logger: Logger) async throws -> any SyncStore {
        // The environment is read here, not as the option's default, so --help never shows
        // a database URL (and its password) taken from the environment.
        if let database = database ?? ProcessInfo.processInfo.environment["DIALOGUE_DATABASE"], !database.isEmpty {
            guard database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") else {
                throw ValidationError("--database must be a postgres:// URL (or leave it out for the embedded SQLite store)")
            }
            do {
                return try await PostgresSyncStore.connect(url: database, logger: logger)
            } catch {
                throw ValidationError("cannot use PostgreSQL at \(PostgresSyncStore.redacted(database)): \(error)")
            }
        }
        do {
            // The folder and the store are the server user's alone (0700/0600), whatever the umask.
            try PrivateFiles.createDirectory(dataDir)
            return try SQLiteSyncStore(path: (dataDir as NSString).appendingPathComponent("dialogue-server.sqlite"), logger: logger)
        } catch {
            throw ValidationError("cannot open the store in \(dataDir): \(error)")
        }
    }
}
