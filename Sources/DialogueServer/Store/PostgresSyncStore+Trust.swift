import DialogueModel
import Foundation
import NIOCore
import PostgresNIO

/// The server's keys, devices and revocations in PostgreSQL (docs/TRUST.md). Like the
/// account tables, these are small: reference tables under Citus.
extension PostgresSyncStore {
    /// Created by ``migrate()`` (idempotent).
    static let trustTables: [PostgresQuery] = [
        """
        CREATE TABLE IF NOT EXISTS server_keys (
            generation bigint PRIMARY KEY, public_key bytea NOT NULL UNIQUE, private_key bytea NOT NULL,
            created_at bigint NOT NULL, retired_at bigint, endorsement bytea
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS devices (
            replica bigint PRIMARY KEY, public_key bytea NOT NULL, member_id uuid NOT NULL REFERENCES members,
            token_id uuid NOT NULL REFERENCES tokens, registered_at bigint NOT NULL, revoked_at bigint,
            certificate bytea NOT NULL, revocation bytea
        )
        """,
        "CREATE INDEX IF NOT EXISTS devices_by_token ON devices (token_id)",
        """
        CREATE TABLE IF NOT EXISTS device_revocations (
            replica bigint NOT NULL, space_id uuid NOT NULL, last_counter bigint NOT NULL, PRIMARY KEY (replica, space_id)
        )
        """,
    ]

    public func serverKeys(creatingIfAbsent candidate: ServerKeyRecord) async throws -> [ServerKeyRecord] {
        let keys = try await serverKeys()
        if !keys.isEmpty { return keys }
        // Generation 1 is the first key: of two processes opening an empty database at once,
        // one inserts it and the other's insert does nothing; both then read the same key.
        try await client.query(
            """
            INSERT INTO server_keys (generation, public_key, private_key, created_at)
            VALUES (1, \(ByteBuffer(bytes: candidate.publicKey)), \(ByteBuffer(bytes: candidate.privateKey)), \(candidate.createdAt))
            ON CONFLICT DO NOTHING
            """, logger: logger)
        return try await serverKeys()
    }

    func serverKeys() async throws -> [ServerKeyRecord] {
        let rows = try await client.query(
            "SELECT generation, public_key, private_key, created_at, retired_at, endorsement FROM server_keys ORDER BY generation",
            logger: logger)
        var keys: [ServerKeyRecord] = []
        for try await (generation, publicKey, privateKey, created, retired, endorsement) in rows.decode(
            (Int64, ByteBuffer, ByteBuffer, Int64, Int64?, ByteBuffer?).self)
        {
            keys.append(
                ServerKeyRecord(
                    generation: generation, publicKey: Array(buffer: publicKey), privateKey: Array(buffer: privateKey), createdAt: created,
                    retiredAt: retired, endorsement: endorsement.map { Data(Array(buffer: $0)) }))
        }
        return keys
    }

    public func rotateServerKey(from previous: [UInt8], to new: ServerKeyRecord) async throws {
        do {
            try await client.withTransaction(logger: logger) { connection in
                // The current key's row, locked: a concurrent rotation waits, then finds it retired.
                let rows = try await connection.query(
                    """
                    SELECT generation FROM server_keys WHERE public_key = \(ByteBuffer(bytes: previous)) AND retired_at IS NULL
                    AND generation = (SELECT max(generation) FROM server_keys) FOR UPDATE
                    """, logger: self.logger)
                var current: Int64?
                for try await generation in rows.decode(Int64.self) { current = generation }
                guard let current else { throw StoreError.conflict }
                try await connection.query(
                    """
                    INSERT INTO server_keys (generation, public_key, private_key, created_at, endorsement) VALUES (
                        \(current + 1), \(ByteBuffer(bytes: new.publicKey)), \(ByteBuffer(bytes: new.privateKey)), \(new.createdAt),
                        \(new.endorsement.map { ByteBuffer(bytes: $0) }))
                    """, logger: self.logger)
                try await connection.query(
                    "UPDATE server_keys SET retired_at = \(new.createdAt) WHERE generation = \(current)", logger: self.logger)
            }
        } catch let error as PostgresTransactionError {
            if error.closureError is StoreError { throw error.closureError! }
            if let psql = error.closureError as? PSQLError, psql.serverInfo?[.sqlState] == "23505" { throw StoreError.conflict }
            throw error
        }
    }

    public func token(forTokenHash hash: [UInt8]) async throws -> TokenAccess? {
        let rows = try await client.query(
            """
            SELECT m.member_id, m.name, m.school_id, m.access, t.token_id, t.label FROM tokens t JOIN members m ON m.member_id = t.member_id
            WHERE t.token_hash = \(ByteBuffer(bytes: hash)) AND t.revoked_at IS NULL
            """, logger: logger)
        for try await (id, name, school, access, token, label) in rows.decode((UUID, String, UUID, String, UUID, String).self) {
            let member = MemberAccount(id: id, name: name, school: school, access: MemberAccess(rawValue: access) ?? .observer)
            return TokenAccess(token: token, label: label, member: member)
        }
        return nil
    }

    public func spaceListings(ofSchool school: UUID) async throws -> [SpaceDirectory.Entry] {
        let rows = try await client.query(
            """
            SELECT s.private_space, s.name, s.school_id, true FROM schools s WHERE s.school_id = \(school)
            UNION ALL
            SELECT p.shared_space, p.name, p.partnership_id, false FROM partnership_schools ps
            JOIN partnerships p ON p.partnership_id = ps.partnership_id WHERE ps.school_id = \(school)
            """, logger: logger)
        var listings: [SpaceDirectory.Entry] = []
        for try await (space, name, owner, isPrivate) in rows.decode((UUID, String, UUID, Bool).self) {
            listings.append(SpaceDirectory.Entry(space: SpaceID(space), name: name, kind: isPrivate ? .private : .shared, owner: owner))
        }
        let legacy = try await legacyVectors(of: listings.map(\.space))
        for index in listings.indices { listings[index].legacy = legacy[listings[index].space] ?? VersionVector() }
        return listings.sorted { $0.space < $1.space }
    }

    public func registerDevice(_ device: DeviceRecord) async throws -> DeviceRegistrationOutcome {
        let replica = Int64(bitPattern: device.replica.rawValue)
        let key = ByteBuffer(bytes: device.publicKey)
        let certificate = ByteBuffer(bytes: device.certificate)
        // Bind if free (of two registrations at once, the primary key lets one insert).
        let inserted = try await client.query(
            """
            INSERT INTO devices (replica, public_key, member_id, token_id, registered_at, certificate)
            VALUES (\(replica), \(key), \(device.member), \(device.token), \(device.registeredAt), \(certificate))
            ON CONFLICT (replica) DO NOTHING RETURNING replica
            """, logger: logger)
        for try await _ in inserted.decode(Int64.self) { return .registered(try await self.device(replica)!) }
        // Renew only what is still the same key and member, not revoked (one statement, so
        // a revocation committing meanwhile is never undone).
        let renewed = try await client.query(
            """
            UPDATE devices SET token_id = \(device.token), certificate = \(certificate)
            WHERE replica = \(replica) AND public_key = \(key) AND member_id = \(device.member) AND revoked_at IS NULL
            RETURNING replica
            """, logger: logger)
        for try await _ in renewed.decode(Int64.self) { return .renewed(try await self.device(replica)!) }
        guard let stored = try await self.device(replica) else { throw StoreError.conflict }
        if stored.publicKey == device.publicKey, stored.member == device.member, stored.revokedAt != nil { return .revoked(stored) }
        return .taken(stored)
    }

    private static let deviceColumns =
        "d.replica, d.public_key, d.member_id, d.token_id, d.registered_at, d.revoked_at, d.certificate, d.revocation"

    private typealias DeviceRow = (Int64, ByteBuffer, UUID, UUID, Int64, Int64?, ByteBuffer, ByteBuffer?)

    private static func device(_ row: DeviceRow) -> DeviceRecord? {
        guard let replica = ReplicaID(rawValue: UInt64(bitPattern: row.0)) else { return nil }
        return DeviceRecord(
            replica: replica, publicKey: Array(buffer: row.1), member: row.2, token: row.3, registeredAt: row.4, revokedAt: row.5,
            certificate: Data(Array(buffer: row.6)), revocation: row.7.map { Data(Array(buffer: $0)) })
    }

    private func device(_ replica: Int64) async throws -> DeviceRecord? {
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.deviceColumns) FROM devices d WHERE d.replica = $1")
        query.binds.append(replica)
        for try await row in try await client.query(query, logger: logger).decode(DeviceRow.self) { return Self.device(row) }
        return nil
    }

    public func devices() async throws -> [DeviceListing] {
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT \(Self.deviceColumns), m.name, t.label FROM devices d JOIN members m ON m.member_id = d.member_id
                JOIN tokens t ON t.token_id = d.token_id ORDER BY d.registered_at, d.replica
                """)
        var listings: [DeviceListing] = []
        for try await row in try await client.query(query, logger: logger).decode(
            (Int64, ByteBuffer, UUID, UUID, Int64, Int64?, ByteBuffer, ByteBuffer?, String, String).self)
        {
            guard let device = Self.device((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7)) else { continue }
            listings.append(DeviceListing(device: device, memberName: row.8, tokenLabel: row.9))
        }
        return listings
    }

    public func deviceCertificates(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data] {
        guard !replicas.isEmpty else { return [:] }
        let ids = Set(replicas).map { Int64(bitPattern: $0.rawValue) }
        let rows = try await client.query(
            "SELECT replica, certificate FROM devices WHERE replica = ANY(\(ids)::int8[])", logger: logger)
        var certificates: [ReplicaID: Data] = [:]
        for try await (replica, certificate) in rows.decode((Int64, ByteBuffer).self) {
            guard let id = ReplicaID(rawValue: UInt64(bitPattern: replica)) else { continue }
            certificates[id] = Data(Array(buffer: certificate))
        }
        return certificates
    }

    public func deviceRevocations(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data] {
        guard !replicas.isEmpty else { return [:] }
        let ids = Set(replicas).map { Int64(bitPattern: $0.rawValue) }
        let rows = try await client.query(
            "SELECT replica, revocation FROM devices WHERE replica = ANY(\(ids)::int8[]) AND revocation IS NOT NULL", logger: logger)
        var revocations: [ReplicaID: Data] = [:]
        for try await (replica, revocation) in rows.decode((Int64, ByteBuffer).self) {
            guard let id = ReplicaID(rawValue: UInt64(bitPattern: replica)) else { continue }
            revocations[id] = Data(Array(buffer: revocation))
        }
        return revocations
    }

    public func revokeToken(
        id: UUID, at time: Int64, certify: @Sendable (DeviceRevocationRecord) throws -> Data
    ) async throws -> TokenRevocationResult? {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                let tokens = try await connection.query(
                    "UPDATE tokens SET revoked_at = \(time) WHERE token_id = \(id) AND revoked_at IS NULL RETURNING token_id",
                    logger: self.logger)
                var found = false
                for try await _ in tokens.decode(UUID.self) { found = true }
                guard found else { return nil }
                // The devices' rows, locked until commit: a registration renewing one waits.
                var replicas: [Int64] = []
                for try await replica in try await connection.query(
                    "SELECT replica FROM devices WHERE token_id = \(id) AND revoked_at IS NULL ORDER BY replica FOR UPDATE",
                    logger: self.logger
                ).decode(Int64.self) { replicas.append(replica) }
                var revoked: [(record: DeviceRevocationRecord, statement: Data)] = []
                for replica in replicas {
                    guard let replicaID = ReplicaID(rawValue: UInt64(bitPattern: replica)) else { continue }
                    // The vector rows locked too: an append raising them waits for this commit.
                    var counters: [SpaceID: UInt64] = [:]
                    for try await (space, counter) in try await connection.query(
                        "SELECT space_id, counter FROM server_vectors WHERE replica = \(replica) FOR UPDATE", logger: self.logger
                    ).decode((UUID, Int64).self) { counters[SpaceID(space)] = UInt64(bitPattern: counter) }
                    let record = DeviceRevocationRecord(replica: replicaID, revokedAt: time, lastCounters: counters)
                    let statement = try certify(record)
                    for (space, counter) in counters {
                        try await connection.query(
                            """
                            INSERT INTO device_revocations (replica, space_id, last_counter) VALUES (\(replica), \(space.uuid), \(Int64(bitPattern: counter)))
                            ON CONFLICT (replica, space_id) DO UPDATE SET last_counter = excluded.last_counter
                            """, logger: self.logger)
                    }
                    try await connection.query(
                        "UPDATE devices SET revoked_at = \(time), revocation = \(ByteBuffer(bytes: statement)) WHERE replica = \(replica)",
                        logger: self.logger)
                    revoked.append((record, statement))
                }
                return TokenRevocationResult(token: id, devices: revoked)
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error
        }
    }

    public func revokedCounters(of replica: ReplicaID) async throws -> [SpaceID: UInt64] {
        let rows = try await client.query(
            "SELECT space_id, last_counter FROM device_revocations WHERE replica = \(Int64(bitPattern: replica.rawValue))",
            logger: logger)
        var counters: [SpaceID: UInt64] = [:]
        for try await (space, counter) in rows.decode((UUID, Int64).self) { counters[SpaceID(space)] = UInt64(bitPattern: counter) }
        return counters
    }
}
