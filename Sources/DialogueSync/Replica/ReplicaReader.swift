import GRDB

extension Replica {
    /// The replica's database for reading only: your own queries (with ``ReplicaQueries``
    /// or GRDB's requests) and GRDB's `ValueObservation`, which sees every change the
    /// replica makes, local edits and merges alike:
    ///
    /// ```swift
    /// let observation = ValueObservation.tracking { db in try ReplicaQueries.sessions(db, in: space) }
    /// for try await sessions in observation.values(in: replica.reader) { show(sessions) }
    /// ```
    ///
    /// It cannot write: its reads run on the pool's read-only connections, and it does not
    /// hand out the pool (every write goes through the replica, which signs and merges it).
    public nonisolated var reader: ReplicaReader { ReplicaReader(pool: database) }
}

/// A read-only view of a replica's database (``Replica/reader``): a GRDB `DatabaseReader`
/// for queries and `ValueObservation` that cannot write and cannot close the replica.
public final class ReplicaReader: DatabaseReader {
    private let pool: DatabasePool

    init(pool: DatabasePool) { self.pool = pool }

    /// The pool's configuration.
    public var configuration: Configuration { pool.configuration }

    /// The replica file's path.
    public var path: String { pool.path }

    /// Does nothing: the replica owns its database and closes it when it goes away.
    public func close() throws {}

    /// Interrupts the database operations under way (SQLite's `sqlite3_interrupt`).
    public func interrupt() { pool.interrupt() }

    /// Runs a read in a snapshot of the database, on a read-only connection.
    @_disfavoredOverload
    public func read<T>(_ value: (Database) throws -> T) throws -> T { try pool.read(value) }

    /// Runs a read in a snapshot of the database, on a read-only connection.
    public func read<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T { try await pool.read(value) }

    /// Runs a read in a snapshot of the database, asynchronously.
    public func asyncRead(_ value: @escaping @Sendable (Result<Database, any Error>) -> Void) { pool.asyncRead(value) }

    /// Runs a read outside a transaction, on a read-only connection.
    @_disfavoredOverload
    public func unsafeRead<T>(_ value: (Database) throws -> T) throws -> T { try pool.unsafeRead(value) }

    /// Runs a read outside a transaction, on a read-only connection.
    public func unsafeRead<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        try await pool.unsafeRead(value)
    }

    /// Runs a read outside a transaction, asynchronously.
    public func asyncUnsafeRead(_ value: @escaping @Sendable (Result<Database, any Error>) -> Void) {
        pool.asyncUnsafeRead(value)
    }

    /// Runs a read outside a transaction; may be called from within another read. Read-only
    /// even when called from within one of the replica's writes (where GRDB would lend the
    /// writing connection).
    public func unsafeReentrantRead<T>(_ value: (Database) throws -> T) throws -> T {
        try pool.unsafeReentrantRead { db in try db.readOnly { try value(db) } }
    }

    /// Starts a `ValueObservation` (use `ValueObservation.start(in:)` or `values(in:)`):
    /// the pool tracks the replica's writes, so the observation sees them all.
    public func _add<Reducer: ValueReducer>(
        observation: ValueObservation<Reducer>, scheduling scheduler: some ValueObservationScheduler,
        onChange: @escaping @Sendable (Reducer.Value) -> Void
    ) -> AnyDatabaseCancellable {
        pool._add(observation: observation, scheduling: scheduler, onChange: onChange)
    }
}
