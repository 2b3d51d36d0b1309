import DialogueModel
import DialogueSync
import Foundation
import GRDB

/// The server's keys, devices and revocations in the SQLite store (docs/TRUST.md).
extension SQLiteSyncStore {
    /// The tables of migration `v2-trust`.
    static func createTrustTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE server_keys (
                    generation INTEGER PRIMARY KEY, public_key BLOB NOT NULL UNIQUE, private_key BLOB NOT NULL,
                    created_at INTEGER NOT NULL, retired_at INTEGER, endorsement BLOB
                );
                CREATE TABLE devices (
                    replica INTEGER PRIMARY KEY, public_key BLOB NOT NULL, member_id BLOB NOT NULL REFERENCES members (member_id),
                    token_id BLOB NOT NULL REFERENCES tokens (token_id), registered_at INTEGER NOT NULL, revoked_at INTEGER,
                    certificate BLOB NOT NULL, revocation BLOB
                );
                CREATE INDEX devices_by_token ON devices (token_id);
                CREATE TABLE device_revocations (
                    replica INTEGER NOT NULL, space_id BLOB NOT NULL, last_counter INTEGER NOT NULL, PRIMARY KEY (replica, space_id)
                ) WITHOUT ROWID;
                """)
    }

    public func serverKeys(creatingIfAbsent candidate: ServerKeyRecord) async throws -> [ServerKeyRecord] {
        let keys = try await database.read { db in try Self.serverKeys(db) }
        if !keys.isEmpty { return keys }
        return try await database.write { db in
            // Generation 1 is the first key: of two first opens, the second insert is ignored.
            try db.execute(
                sql: """
                    INSERT INTO server_keys (generation, public_key, private_key, created_at) SELECT 1, ?, ?, ?
                    WHERE NOT EXISTS (SELECT 1 FROM server_keys)
                    """,
                arguments: [Data(candidate.publicKey), Data(candidate.privateKey), candidate.createdAt])
            return try Self.serverKeys(db)
        }
    }

    static func serverKeys(_ db: Database) throws -> [ServerKeyRecord] {
        try Row.fetchAll(
            db, sql: "SELECT generation, public_key, private_key, created_at, retired_at, endorsement FROM server_keys ORDER BY generation"
        ).map { row throws(DamagedRow) in
            ServerKeyRecord(
                generation: try row.required("generation", of: "server_keys", \.storedInt64),
                publicKey: [UInt8](try row.required("public_key", of: "server_keys", \.storedBlob)),
                privateKey: [UInt8](try row.required("private_key", of: "server_keys", \.storedBlob)),
                createdAt: try row.required("created_at", of: "server_keys", \.storedInt64),
                retiredAt: try row.nullable("retired_at", of: "server_keys", \.storedInt64),
                endorsement: try row.nullable("endorsement", of: "server_keys", \.storedBlob))
        }
    }

    public func rotateServerKey(from previous: [UInt8], to new: ServerKeyRecord) async throws {
        try await database.write { db in
            guard let current = try Self.serverKeys(db).last, current.publicKey == previous else { throw StoreError.conflict }
            try db.execute(
                sql: "INSERT INTO server_keys (generation, public_key, private_key, created_at, endorsement) VALUES (?, ?, ?, ?, ?)",
                arguments: [current.generation + 1, Data(new.publicKey), Data(new.privateKey), new.createdAt, new.endorsement])
            try db.execute(
                sql: "UPDATE server_keys SET retired_at = ? WHERE generation = ?", arguments: [new.createdAt, current.generation])
        }
    }

    public func token(forTokenHash hash: [UInt8]) async throws -> TokenAccess? {
        try await database.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT m.member_id, m.name, m.school_id, m.access, t.token_id, t.label FROM tokens t
                        JOIN members m ON m.member_id = t.member_id WHERE t.token_hash = ? AND t.revoked_at IS NULL
                        """, arguments: [Data(hash)])
            else { return nil }
            return TokenAccess(
                token: try row.required("token_id", of: "tokens", \.storedUUID),
                label: try row.required("label", of: "tokens", \.storedString), member: try Self.member(row))
        }
    }

    public func spaceListings(ofSchool school: UUID) async throws -> [SpaceDirectory.Entry] {
        try await database.read { db in
            var listings: [SpaceDirectory.Entry] = []
            if let row = try Row.fetchOne(
                db, sql: "SELECT name, private_space FROM schools WHERE school_id = ?", arguments: [school.storeBlob])
            {
                listings.append(
                    SpaceDirectory.Entry(
                        space: try row.required("private_space", of: "schools", \.storedSpaceID),
                        name: try row.required("name", of: "schools", \.storedString), kind: .private, owner: school))
            }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT p.partnership_id, p.name, p.shared_space FROM partnership_schools ps
                    JOIN partnerships p ON p.partnership_id = ps.partnership_id WHERE ps.school_id = ?
                    """, arguments: [school.storeBlob])
            {
                listings.append(
                    SpaceDirectory.Entry(
                        space: try row.required("shared_space", of: "partnerships", \.storedSpaceID),
                        name: try row.required("name", of: "partnerships", \.storedString), kind: .shared,
                        owner: try row.required("partnership_id", of: "partnerships", \.storedUUID)))
            }
            for index in listings.indices { listings[index].legacy = try Self.legacyVector(of: listings[index].space, db) }
            return listings.sorted { $0.space < $1.space }
        }
    }

    public func registerDevice(_ device: DeviceRecord) async throws -> DeviceRegistrationOutcome {
        try await database.write { db in
            let replica = Int64(bitPattern: device.replica.rawValue)
            if let stored = try Self.device(replica, db) {
                // Another key or member is told the id is taken, revoked or not.
                guard stored.publicKey == device.publicKey, stored.member == device.member else { return .taken(stored) }
                if stored.revokedAt != nil { return .revoked(stored) }
                try db.execute(
                    sql: "UPDATE devices SET token_id = ?, certificate = ? WHERE replica = ?",
                    arguments: [device.token.storeBlob, device.certificate, replica])
                return .renewed(try Self.device(replica, db)!)
            }
            try db.execute(
                sql: """
                    INSERT INTO devices (replica, public_key, member_id, token_id, registered_at, certificate) VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    replica, Data(device.publicKey), device.member.storeBlob, device.token.storeBlob, device.registeredAt,
                    device.certificate,
                ])
            return .registered(try Self.device(replica, db)!)
        }
    }

    private static let deviceColumns =
        "d.replica, d.public_key, d.member_id, d.token_id, d.registered_at, d.revoked_at, d.certificate, d.revocation"

    private static func device(_ replica: Int64, _ db: Database) throws -> DeviceRecord? {
        try Row.fetchOne(db, sql: "SELECT \(deviceColumns) FROM devices d WHERE d.replica = ?", arguments: [replica]).map(device)
    }

    /// A device row (never trusting it: a damaged row is a ``DamagedRow``, a 500).
    private static func device(_ row: Row) throws(DamagedRow) -> DeviceRecord {
        DeviceRecord(
            replica: try row.required("replica", of: "devices", \.storedReplicaID),
            publicKey: [UInt8](try row.required("public_key", of: "devices", \.storedBlob)),
            member: try row.required("member_id", of: "devices", \.storedUUID),
            token: try row.required("token_id", of: "devices", \.storedUUID),
            registeredAt: try row.required("registered_at", of: "devices", \.storedInt64),
            revokedAt: try row.nullable("revoked_at", of: "devices", \.storedInt64),
            certificate: try row.required("certificate", of: "devices", \.storedBlob),
            revocation: try row.nullable("revocation", of: "devices", \.storedBlob))
    }

    public func devices() async throws -> [DeviceListing] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.deviceColumns), m.name, t.label FROM devices d JOIN members m ON m.member_id = d.member_id
                    JOIN tokens t ON t.token_id = d.token_id ORDER BY d.registered_at, d.replica
                    """
            ).map { row throws(DamagedRow) in
                DeviceListing(
                    device: try Self.device(row), memberName: try row.required("name", of: "members", \.storedString),
                    tokenLabel: try row.required("label", of: "tokens", \.storedString))
            }
        }
    }

    public func deviceCertificates(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data] {
        guard !replicas.isEmpty else { return [:] }
        return try await database.read { db in
            var certificates: [ReplicaID: Data] = [:]
            let select = try db.cachedStatement(sql: "SELECT certificate FROM devices WHERE replica = ?")
            for replica in Set(replicas) {
                if let certificate = try Data.fetchOne(select, arguments: [Int64(bitPattern: replica.rawValue)]) {
                    certificates[replica] = certificate
                }
            }
            return certificates
        }
    }

    public func deviceRevocations(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data] {
        guard !replicas.isEmpty else { return [:] }
        return try await database.read { db in
            var revocations: [ReplicaID: Data] = [:]
            let select = try db.cachedStatement(sql: "SELECT revocation FROM devices WHERE replica = ? AND revocation IS NOT NULL")
            for replica in Set(replicas) {
                if let revocation = try Data.fetchOne(select, arguments: [Int64(bitPattern: replica.rawValue)]) {
                    revocations[replica] = revocation
                }
            }
            return revocations
        }
    }

    public func revokeToken(
        id: UUID, at time: Int64, certify: @Sendable (DeviceRevocationRecord) throws -> Data
    ) async throws -> TokenRevocationResult? {
        try await database.write { db in
            // One write transaction: no append can land between reading a device's counters
            // and marking it revoked (SQLite has one writer).
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL", arguments: [time, id.storeBlob])
            guard db.changesCount > 0 else { return nil }
            var revoked: [(record: DeviceRevocationRecord, statement: Data)] = []
            let replicas = try Int64.fetchAll(
                db, sql: "SELECT replica FROM devices WHERE token_id = ? AND revoked_at IS NULL ORDER BY replica",
                arguments: [id.storeBlob])
            for replica in replicas {
                var counters: [SpaceID: UInt64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT space_id, counter FROM server_vectors WHERE replica = ?", arguments: [replica])
                {
                    counters[try row.required("space_id", of: "server_vectors", \.storedSpaceID)] =
                        try row.required("counter", of: "server_vectors", \.storedCounter)
                }
                guard let replicaID = ReplicaID(rawValue: UInt64(bitPattern: replica)) else { continue }
                let record = DeviceRevocationRecord(replica: replicaID, revokedAt: time, lastCounters: counters)
                let statement = try certify(record)
                for (space, counter) in counters {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO device_revocations (replica, space_id, last_counter) VALUES (?, ?, ?)",
                        arguments: [replica, space.storeBlob, Int64(bitPattern: counter)])
                }
                try db.execute(
                    sql: "UPDATE devices SET revoked_at = ?, revocation = ? WHERE replica = ?", arguments: [time, statement, replica])
                revoked.append((record, statement))
            }
            return TokenRevocationResult(token: id, devices: revoked)
        }
    }

    public func revokedCounters(of replica: ReplicaID) async throws -> [SpaceID: UInt64] {
        try await database.read { db in
            var counters: [SpaceID: UInt64] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT space_id, last_counter FROM device_revocations WHERE replica = ?",
                arguments: [Int64(bitPattern: replica.rawValue)])
            {
                counters[try row.required("space_id", of: "device_revocations", \.storedSpaceID)] =
                    try row.required("last_counter", of: "device_revocations", \.storedCounter)
            }
            return counters
        }
    }
}
