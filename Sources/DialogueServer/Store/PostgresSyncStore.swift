import DialogueModel
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The store for several server processes over one PostgreSQL database.
///
/// Every change table leads with `space_id`, so Citus can distribute them by space
/// (`docs/DEPLOYMENT.md`). Concurrent writers are serialised by the primary keys: a
/// writer that loses a race gets ``StoreError/conflict`` and the service validates again.
public final class PostgresSyncStore: SyncStore {
    let client: PostgresClient
    let runTask: Task<Void, Never>
    let logger: Logger

    init(client: PostgresClient, runTask: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runTask = runTask
        self.logger = logger
    }

    /// Connects to `postgres://user:password@host:port/database`, failing within a few
    /// seconds (not after the client's long retry loop) when the server cannot be reached
    /// or refuses the credentials, then creates the schema if needed.
    public static func connect(url: String, logger: Logger, timeout: Duration = .seconds(5)) async throws -> PostgresSyncStore {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
            throw StoreError.unavailable("the database URL must look like postgres://user:password@host:port/database")
        }
        // Foundation parses any number as the port; the client library would wrap it to 16 bits.
        if let port = components.port, !(1...65535).contains(port) {
            throw StoreError.unavailable("the database URL's port \(port) is not between 1 and 65535")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding, database: database.isEmpty ? nil : database, tls: .disable)
        configuration.options.connectTimeout = timeout
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runTask = Task { await client.run() }
        let store = PostgresSyncStore(client: client, runTask: runTask, logger: logger)
        do {
            try await withTimeout(timeout) { try await store.ping() }
            try await store.migrate()
        } catch {
            runTask.cancel()
            throw StoreError.unavailable("\(error)")
        }
        return store
    }

    /// Hides the password of a database URL for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    func migrate() async throws {
        let statements: [PostgresQuery] =
            [
                """
                CREATE TABLE IF NOT EXISTS server_changes (
                    space_id uuid NOT NULL, seq bigint NOT NULL, replica bigint NOT NULL, counter bigint NOT NULL,
                    last_counter bigint NOT NULL, body bytea NOT NULL, PRIMARY KEY (space_id, seq)
                )
                """,
                "CREATE UNIQUE INDEX IF NOT EXISTS server_changes_by_author ON server_changes (space_id, replica, counter)",
                """
                CREATE TABLE IF NOT EXISTS server_vectors (
                    space_id uuid NOT NULL, replica bigint NOT NULL, counter bigint NOT NULL, PRIMARY KEY (space_id, replica)
                )
                """,
                "CREATE TABLE IF NOT EXISTS partnerships (partnership_id uuid PRIMARY KEY, name text NOT NULL, shared_space uuid NOT NULL UNIQUE)",
                "CREATE TABLE IF NOT EXISTS schools (school_id uuid PRIMARY KEY, name text NOT NULL, private_space uuid NOT NULL UNIQUE)",
                """
                CREATE TABLE IF NOT EXISTS partnership_schools (
                    partnership_id uuid NOT NULL REFERENCES partnerships, school_id uuid NOT NULL REFERENCES schools,
                    PRIMARY KEY (partnership_id, school_id)
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS members (
                    member_id uuid PRIMARY KEY, name text NOT NULL, school_id uuid NOT NULL REFERENCES schools, access text NOT NULL
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS tokens (
                    token_id uuid PRIMARY KEY, token_hash bytea NOT NULL UNIQUE, member_id uuid NOT NULL REFERENCES members,
                    label text NOT NULL, issued_at bigint NOT NULL, revoked_at bigint
                )
                """,
            ] + Self.trustTables + Self.chainHeadTables + [Self.retentionTable] + Self.personalSpaceTables
        try await client.withTransaction(logger: logger) { connection in
            // One migrator at a time when several servers start together.
            try await connection.query("SELECT pg_advisory_xact_lock(4242)", logger: self.logger)
            for statement in statements { try await connection.query(statement, logger: self.logger) }
            // Each space's last seq, which appends raise (added after the first release: a
            // database that predates it gets the heads of the changes it already holds).
            var hasHeads = false
            for try await exists in try await connection.query(
                "SELECT to_regclass('server_space_heads') IS NOT NULL", logger: self.logger
            ).decode(Bool.self) { hasHeads = exists }
            if !hasHeads {
                try await connection.query(
                    "CREATE TABLE server_space_heads (space_id uuid PRIMARY KEY, seq bigint NOT NULL)", logger: self.logger)
                try await connection.query(
                    "INSERT INTO server_space_heads (space_id, seq) SELECT space_id, max(seq) FROM server_changes GROUP BY space_id",
                    logger: self.logger)
            }
            try await Self.recordLegacyVectors(connection, logger: self.logger)
        }
    }

    public func ping() async throws {
        try await client.query("SELECT 1", logger: logger)
    }

    public func close() async throws {
        runTask.cancel()
        _ = await runTask.value
    }

    // MARK: Changes

    public func vector(of space: SpaceID) async throws -> VersionVector {
        var vector = VersionVector()
        let rows = try await client.query("SELECT replica, counter FROM server_vectors WHERE space_id = \(space.uuid)", logger: logger)
        for try await (replica, counter) in rows.decode((Int64, Int64).self) {
            guard let id = ReplicaID(rawValue: UInt64(bitPattern: replica)) else { continue }
            vector[id] = UInt64(bitPattern: counter)
        }
        return vector
    }

    public func storedChanges(in space: SpaceID, replica: ReplicaID, counters: ClosedRange<UInt64>) async throws -> [Change] {
        let rows = try await client.query(
            """
            SELECT body FROM server_changes WHERE space_id = \(space.uuid) AND replica = \(Int64(bitPattern: replica.rawValue))
            AND last_counter >= \(Int64(bitPattern: counters.lowerBound)) AND counter <= \(Int64(bitPattern: counters.upperBound))
            ORDER BY counter
            """, logger: logger)
        var changes: [Change] = []
        for try await body in rows.decode(ByteBuffer.self) { changes += try ChangeCodec.decode(Array(buffer: body)) }
        return changes
    }

    public func append(_ changes: [Change], heads: [ChainHead], to space: SpaceID) async throws {
        guard !changes.isEmpty else { return }
        let headColumns = Self.columns(of: heads)
        var replicas: [Int64] = []
        var counters: [Int64] = []
        var lasts: [Int64] = []
        var bodies: [ByteBuffer] = []
        var highest: [ReplicaID: UInt64] = [:]
        for change in changes {
            replicas.append(Int64(bitPattern: change.replica.rawValue))
            counters.append(Int64(bitPattern: change.id.counter))
            lasts.append(Int64(bitPattern: change.lastCounter))
            bodies.append(ByteBuffer(bytes: ChangeCodec.encode([change])))
            highest[change.replica] = max(highest[change.replica] ?? 0, change.lastCounter)
        }
        let vectorReplicas = highest.map { Int64(bitPattern: $0.key.rawValue) }
        let vectorCounters = highest.map { Int64(bitPattern: $0.value) }
        let count = Int64(changes.count)
        do {
            // One statement, so one round trip and its own transaction. Raising the space's
            // head row reserves the seqs and locks the row until commit: a concurrent writer
            // to the space waits, then numbers its changes after these, so seq order is commit
            // order and a scan resuming from a cursor never skips a change committed later.
            try await client.query(
                """
                WITH head AS (
                    INSERT INTO server_space_heads (space_id, seq) VALUES (\(space.uuid), \(count))
                    ON CONFLICT (space_id) DO UPDATE SET seq = server_space_heads.seq + excluded.seq
                    RETURNING seq
                ), signed AS (
                    INSERT INTO chain_heads (space_id, replica, counter, hash, signature)
                    SELECT \(space.uuid), h.replica, h.counter, h.hash, h.signature
                    FROM unnest(\(headColumns.replicas)::int8[], \(headColumns.counters)::int8[], \(headColumns.hashes)::bytea[],
                        \(headColumns.signatures)::bytea[]) AS h(replica, counter, hash, signature)
                    ON CONFLICT DO NOTHING
                ), stored AS (
                    INSERT INTO server_changes (space_id, seq, replica, counter, last_counter, body)
                    SELECT \(space.uuid), head.seq - \(count) + t.position, t.replica, t.counter, t.last_counter, t.body
                    FROM head, unnest(\(replicas)::int8[], \(counters)::int8[], \(lasts)::int8[], \(bodies)::bytea[])
                        WITH ORDINALITY AS t(replica, counter, last_counter, body, position)
                )
                INSERT INTO server_vectors (space_id, replica, counter)
                SELECT \(space.uuid), v.replica, v.counter FROM unnest(\(vectorReplicas)::int8[], \(vectorCounters)::int8[]) AS v(replica, counter)
                ON CONFLICT (space_id, replica) DO UPDATE SET counter = greatest(server_vectors.counter, excluded.counter)
                """, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw StoreError.conflict
        }
    }

    public func rewrite(_ changes: [Change], in space: SpaceID) async throws {
        guard !changes.isEmpty else { return }
        var replicas: [Int64] = []
        var counters: [Int64] = []
        var bodies: [ByteBuffer] = []
        for change in changes {
            replicas.append(Int64(bitPattern: change.replica.rawValue))
            counters.append(Int64(bitPattern: change.id.counter))
            bodies.append(ByteBuffer(bytes: ChangeCodec.encode([change])))
        }
        // One statement: its own transaction. The rows keep their seq (pulls' cursors).
        let rows = try await client.query(
            """
            UPDATE server_changes AS c SET body = t.body
            FROM unnest(\(replicas)::int8[], \(counters)::int8[], \(bodies)::bytea[]) AS t(replica, counter, body)
            WHERE c.space_id = \(space.uuid) AND c.replica = t.replica AND c.counter = t.counter
            RETURNING c.seq
            """, logger: logger)
        var updated = 0
        for try await _ in rows.decode(Int64.self) { updated += 1 }
        guard updated == changes.count else {
            throw StoreError.notFound("\(changes.count - updated) of the changes to rewrite in space \(space)")
        }
        // The old rows stay in the table's files as dead tuples until vacuumed. VACUUM runs
        // outside any transaction, after the commit above; a failure is logged, not fatal
        // (autovacuum removes them later): docs/DEPLOYMENT.md, "Erasure".
        do {
            try await client.query("VACUUM server_changes", logger: logger)
        } catch {
            logger.error(
                "VACUUM after an erasure failed; the erased content stays in dead tuples until autovacuum runs",
                metadata: ["space.id": "\(space)", "error": "\(String(reflecting: error))"])
        }
    }

    public func changes(in space: SpaceID, missingFrom vector: VersionVector, after: Int64, limit: Int) async throws -> ChangePageResult {
        var changes: [Change] = []
        var positions: [Int64] = []
        var cursor = after
        // Rows come over the wire whether used or not: read little more than the page still
        // wanted at a time, but twice as many rows after a read that skipped some, so that a
        // long run of rows the vector covers (a replica holding most of the space) costs a
        // few reads, not one per page's worth of them (a page of 1 behind 100,000 covered
        // rows took 50,000 reads of 2 rows).
        var chunk = min(Self.scanChunk, limit + 1)
        while true {
            let rows = try await client.query(
                """
                SELECT seq, replica, last_counter, body FROM server_changes WHERE space_id = \(space.uuid) AND seq > \(cursor)
                ORDER BY seq LIMIT \(chunk)
                """, logger: logger)
            var count = 0
            var skipped = false
            for try await (seq, replica, last, body) in rows.decode((Int64, Int64, Int64, ByteBuffer).self) {
                count += 1
                if let id = ReplicaID(rawValue: UInt64(bitPattern: replica)), UInt64(bitPattern: last) <= vector[id] {
                    cursor = seq
                    skipped = true
                    continue
                }
                if changes.count == limit { return ChangePageResult(changes: changes, more: true, cursor: cursor, positions: positions) }
                let decoded = try ChangeCodec.decode(Array(buffer: body))
                changes += decoded
                positions += repeatElement(seq, count: decoded.count)
                cursor = seq
            }
            if count < chunk { return ChangePageResult(changes: changes, more: false, cursor: cursor, positions: positions) }
            let wanted = limit - changes.count + 1  // and one more, to tell whether the page is the last
            chunk = min(Self.scanChunk, skipped ? max(wanted, chunk * 2) : wanted)
        }
    }

    /// The most rows one read of a space's changes asks for.
    static let scanChunk = 2000

    // MARK: Accounts

    public func createPartnership(name: String) async throws -> PartnershipAccount {
        let account = PartnershipAccount(id: UUID(), name: name, sharedSpace: SpaceID(UUID()))
        try await client.query(
            "INSERT INTO partnerships (partnership_id, name, shared_space) VALUES (\(account.id), \(name), \(account.sharedSpace.uuid))",
            logger: logger)
        return account
    }

    public func createSchool(name: String) async throws -> SchoolAccount {
        let account = SchoolAccount(id: UUID(), name: name, privateSpace: SpaceID(UUID()), partnerships: [])
        try await client.query(
            "INSERT INTO schools (school_id, name, private_space) VALUES (\(account.id), \(name), \(account.privateSpace.uuid))",
            logger: logger)
        return account
    }

    public func addSchool(_ school: UUID, toPartnership partnership: UUID) async throws {
        try await requireExists("schools", "school_id", school, "school \(school)")
        try await requireExists("partnerships", "partnership_id", partnership, "partnership \(partnership)")
        try await client.query(
            "INSERT INTO partnership_schools (partnership_id, school_id) VALUES (\(partnership), \(school)) ON CONFLICT DO NOTHING",
            logger: logger)
    }

    public func removeSchool(_ school: UUID, fromPartnership partnership: UUID) async throws {
        try await client.query(
            "DELETE FROM partnership_schools WHERE partnership_id = \(partnership) AND school_id = \(school)", logger: logger)
    }

    public func createMember(name: String, school: UUID, role: MemberAccess) async throws -> MemberAccount {
        try await requireExists("schools", "school_id", school, "school \(school)")
        let account = MemberAccount(id: UUID(), name: name, school: school, access: role)
        // The member and their personal space in one statement (so one transaction).
        try await client.query(
            """
            WITH member AS (
                INSERT INTO members (member_id, name, school_id, access) VALUES (\(account.id), \(name), \(school), \(role.rawValue))
                RETURNING member_id
            )
            INSERT INTO personal_spaces (member_id, space_id) SELECT member_id, \(UUID()) FROM member
            """, logger: logger)
        return account
    }

    public func storeToken(_ token: TokenRecord) async throws {
        try await requireExists("members", "member_id", token.member, "member \(token.member)")
        try await client.query(
            """
            INSERT INTO tokens (token_id, token_hash, member_id, label, issued_at) VALUES (
                \(token.id), \(ByteBuffer(bytes: token.hash)), \(token.member), \(token.label), \(Int64(token.issuedAt.timeIntervalSince1970 * 1000)))
            """, logger: logger)
    }

    public func member(forTokenHash hash: [UInt8]) async throws -> MemberAccount? {
        let rows = try await client.query(
            """
            SELECT m.member_id, m.name, m.school_id, m.access FROM tokens t JOIN members m ON m.member_id = t.member_id
            WHERE t.token_hash = \(ByteBuffer(bytes: hash)) AND t.revoked_at IS NULL
            """, logger: logger)
        for try await (id, name, school, access) in rows.decode((UUID, String, UUID, String).self) {
            return MemberAccount(id: id, name: name, school: school, access: MemberAccess(rawValue: access) ?? .observer)
        }
        return nil
    }

    public func access(forTokenHash hash: [UInt8]) async throws -> (member: MemberAccount, spaces: Set<SpaceID>, personal: SpaceID)? {
        // One round trip per request: the member, their school's space and its partnerships' spaces.
        let rows = try await client.query(
            """
            SELECT m.member_id, m.name, m.school_id, m.access, s.private_space,
                ARRAY(SELECT p.shared_space FROM partnership_schools ps JOIN partnerships p ON p.partnership_id = ps.partnership_id
                      WHERE ps.school_id = m.school_id),
                (SELECT ps.space_id FROM personal_spaces ps WHERE ps.member_id = m.member_id)
            FROM tokens t JOIN members m ON m.member_id = t.member_id JOIN schools s ON s.school_id = m.school_id
            WHERE t.token_hash = \(ByteBuffer(bytes: hash)) AND t.revoked_at IS NULL
            """, logger: logger)
        var found: (member: MemberAccount, spaces: Set<SpaceID>, personal: UUID?)?
        for try await (id, name, school, access, own, shared, personal) in rows.decode(
            (UUID, String, UUID, String, UUID, [UUID], UUID?).self)
        {
            let member = MemberAccount(id: id, name: name, school: school, access: MemberAccess(rawValue: access) ?? .observer)
            found = (member, Set([SpaceID(own)] + shared.map(SpaceID.init)), personal)
        }
        guard let found else { return nil }
        // Their own personal space, never another member's (made now if they have none yet).
        var personal = found.personal.map(SpaceID.init)
        if personal == nil { personal = try await personalSpace(of: found.member.id) }
        guard let personal else { return nil }
        return (found.member, found.spaces.union([personal]), personal)
    }

    public func spaces(ofSchool school: UUID) async throws -> Set<SpaceID> {
        var spaces: Set<SpaceID> = []
        let own = try await client.query("SELECT private_space FROM schools WHERE school_id = \(school)", logger: logger)
        for try await space in own.decode(UUID.self) { spaces.insert(SpaceID(space)) }
        let shared = try await client.query(
            """
            SELECT p.shared_space FROM partnership_schools ps JOIN partnerships p ON p.partnership_id = ps.partnership_id
            WHERE ps.school_id = \(school)
            """, logger: logger)
        for try await space in shared.decode(UUID.self) { spaces.insert(SpaceID(space)) }
        return spaces
    }

    public func partnerships() async throws -> [PartnershipAccount] {
        var result: [PartnershipAccount] = []
        let rows = try await client.query("SELECT partnership_id, name, shared_space FROM partnerships ORDER BY name", logger: logger)
        for try await (id, name, space) in rows.decode((UUID, String, UUID).self) {
            result.append(PartnershipAccount(id: id, name: name, sharedSpace: SpaceID(space)))
        }
        return result
    }

    public func schools() async throws -> [SchoolAccount] {
        var result: [SchoolAccount] = []
        let rows = try await client.query("SELECT school_id, name, private_space FROM schools ORDER BY name", logger: logger)
        for try await (id, name, space) in rows.decode((UUID, String, UUID).self) {
            result.append(SchoolAccount(id: id, name: name, privateSpace: SpaceID(space), partnerships: []))
        }
        for index in result.indices {
            let links = try await client.query(
                "SELECT partnership_id FROM partnership_schools WHERE school_id = \(result[index].id)", logger: logger)
            for try await partnership in links.decode(UUID.self) { result[index].partnerships.append(partnership) }
        }
        return result
    }

    public func members() async throws -> [MemberAccount] {
        var result: [MemberAccount] = []
        let rows = try await client.query("SELECT member_id, name, school_id, access FROM members ORDER BY name", logger: logger)
        for try await (id, name, school, access) in rows.decode((UUID, String, UUID, String).self) {
            result.append(MemberAccount(id: id, name: name, school: school, access: MemberAccess(rawValue: access) ?? .observer))
        }
        return result
    }

    private func requireExists(_ table: String, _ column: String, _ id: UUID, _ what: String) async throws {
        var query = PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) WHERE \(column) = $1")
        query.binds.append(id)
        let rows = try await client.query(query, logger: logger)
        for try await _ in rows.decode(Int32.self) { return }
        throw StoreError.notFound(what)
    }
}

/// Runs `body`, failing with ``StoreError/unavailable(_:)`` after `timeout`.
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw StoreError.unavailable("no answer within \(timeout) (wrong host, port or credentials?)")
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}
