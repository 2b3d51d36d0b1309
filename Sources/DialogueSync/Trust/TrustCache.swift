import DialogueModel
import Foundation
import GRDB

/// The replica's trust cache: what it learnt from its server, each statement verified
/// against the server key ring before it is written, so every check works offline.
///
/// Statements are kept in their JSON form (a verifier re-encodes the canonical bytes from
/// the fields, so the stored form is as good as the signed one), beside the columns they
/// are looked up by.
enum TrustCache {
    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                -- The server key pinned at the first login (or replaced deliberately).
                CREATE TABLE server_key_pin (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    public_key BLOB NOT NULL,
                    pinned_at INTEGER NOT NULL
                );
                -- Endorsements followed from the pinned key to its successors, in the order adopted.
                CREATE TABLE server_key_endorsements (
                    position INTEGER PRIMARY KEY,
                    new_key BLOB NOT NULL UNIQUE,
                    statement BLOB NOT NULL
                );
                -- Device certificates: this device's and those of devices that wrote in its spaces.
                CREATE TABLE device_certificates (
                    replica INTEGER PRIMARY KEY,
                    public_key BLOB NOT NULL,
                    member BLOB NOT NULL,
                    issued_at INTEGER NOT NULL,
                    statement BLOB NOT NULL
                );
                -- Revocations of devices, one per device.
                CREATE TABLE device_revocations (
                    replica INTEGER PRIMARY KEY,
                    statement BLOB NOT NULL
                );
                -- The space directory of this device's member: the spaces it may hold, named.
                CREATE TABLE space_directory (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    member BLOB NOT NULL,
                    issued_at INTEGER NOT NULL,
                    statement BLOB NOT NULL
                );
                """)
    }

    /// The schools and members this device's member may see named (migration
    /// `v10-people-directory`).
    static let createPeopleDirectory = """
        CREATE TABLE people_directory (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            member BLOB NOT NULL,
            issued_at INTEGER NOT NULL,
            statement BLOB NOT NULL
        );
        """

    // MARK: Reading

    static func ring(_ db: Database) throws -> ServerKeyRing? {
        guard let raw = try Data.fetchOne(db, sql: "SELECT public_key FROM server_key_pin WHERE id = 1") else { return nil }
        guard let pinned = PublicSigningKey(rawRepresentation: raw) else {
            throw ReplicaError.storage("the pinned server key stored in the replica is damaged")
        }
        let endorsements = try Data.fetchAll(db, sql: "SELECT statement FROM server_key_endorsements ORDER BY position")
            .map { try decode(ServerKeyEndorsement.self, $0) }
        do { return try ServerKeyRing(pinned: pinned, endorsements: endorsements) } catch {
            throw ReplicaError.storage("the server key endorsements stored in the replica no longer verify: \(error)", underlying: error)
        }
    }

    static func certificate(of replica: ReplicaID, _ db: Database) throws -> DeviceCertificate? {
        try Data.fetchOne(db, sql: "SELECT statement FROM device_certificates WHERE replica = ?", arguments: [replica.storedValue])
            .map { try decode(DeviceCertificate.self, $0) }
    }

    static func certificates(_ db: Database) throws -> [DeviceCertificate] {
        try Data.fetchAll(db, sql: "SELECT statement FROM device_certificates ORDER BY replica").map {
            try decode(DeviceCertificate.self, $0)
        }
    }

    static func certificatesHeld(_ db: Database) throws -> [ReplicaID: Int64] {
        var held: [ReplicaID: Int64] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT replica, issued_at FROM device_certificates")
        while let row = try rows.next() {
            guard let replica = ReplicaID(storedValue: row[0]) else { continue }
            held[replica] = row[1]
        }
        return held
    }

    static func revocations(_ db: Database) throws -> [DeviceRevocation] {
        try Data.fetchAll(db, sql: "SELECT statement FROM device_revocations ORDER BY replica").map {
            try decode(DeviceRevocation.self, $0)
        }
    }

    static func revocation(of replica: ReplicaID, _ db: Database) throws -> DeviceRevocation? {
        try Data.fetchOne(db, sql: "SELECT statement FROM device_revocations WHERE replica = ?", arguments: [replica.storedValue])
            .map { try decode(DeviceRevocation.self, $0) }
    }

    static func directory(_ db: Database) throws -> SpaceDirectory? {
        try Data.fetchOne(db, sql: "SELECT statement FROM space_directory WHERE id = 1").map { try decode(SpaceDirectory.self, $0) }
    }

    static func people(_ db: Database) throws -> PeopleDirectory? {
        try Data.fetchOne(db, sql: "SELECT statement FROM people_directory WHERE id = 1").map { try decode(PeopleDirectory.self, $0) }
    }

    /// The member whose personal space `space` is, as the stored directory lists it (it
    /// lists only this device's member's own), or `nil` for any other space.
    static func personalOwner(of space: SpaceID, _ db: Database) throws -> UUID? {
        try directory(db)?.entries.first { $0.space == space && $0.kind == .personal }?.owner
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw ReplicaError.storage("a \(T.self) stored in the replica's trust cache cannot be read: \(error)", underlying: error)
        }
    }

    private static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(value)
    }

    // MARK: Writing (callers verify first: see Replica+Trust)

    /// Forgets everything learnt under the previous pin (a deliberate key replacement).
    static func clear(_ db: Database) throws {
        try db.execute(
            sql: """
                DELETE FROM server_key_pin; DELETE FROM server_key_endorsements; DELETE FROM device_certificates;
                DELETE FROM device_revocations; DELETE FROM space_directory; DELETE FROM people_directory;
                """)
    }

    /// Stores the ring: the pin if none is stored, then the endorsements not yet stored, in order.
    static func store(_ ring: ServerKeyRing, now: Int64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO server_key_pin (id, public_key, pinned_at) VALUES (1, ?, ?)",
            arguments: [Data(ring.pinned.rawRepresentation), now])
        for endorsement in ring.endorsements {
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO server_key_endorsements (position, new_key, statement)
                    VALUES ((SELECT coalesce(max(position), 0) + 1 FROM server_key_endorsements), ?, ?)
                    """,
                arguments: [Data(endorsement.newKey.rawRepresentation), try encode(endorsement)])
        }
    }

    /// Stores a certificate unless a newer one of the same device is held.
    static func store(_ certificate: DeviceCertificate, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO device_certificates (replica, public_key, member, issued_at, statement) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (replica) DO UPDATE SET
                    public_key = excluded.public_key, member = excluded.member, issued_at = excluded.issued_at,
                    statement = excluded.statement
                WHERE excluded.issued_at >= device_certificates.issued_at
                """,
            arguments: [
                certificate.replica.storedValue, Data(certificate.publicKey.rawRepresentation), EntityID(certificate.member).blob,
                certificate.issuedAt, try encode(certificate),
            ])
    }

    /// Stores a revocation (a device is revoked once; a later statement of it replaces the earlier).
    static func store(_ revocation: DeviceRevocation, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO device_revocations (replica, statement) VALUES (?, ?)",
            arguments: [revocation.replica.storedValue, try encode(revocation)])
    }

    /// Stores the directory unless a newer one is held.
    static func store(_ directory: SpaceDirectory, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO space_directory (id, member, issued_at, statement) VALUES (1, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET member = excluded.member, issued_at = excluded.issued_at, statement = excluded.statement
                WHERE excluded.issued_at >= space_directory.issued_at OR excluded.member != space_directory.member
                """,
            arguments: [EntityID(directory.member).blob, directory.issuedAt, try encode(directory)])
    }

    /// Stores the people directory unless a newer one of the same member is held.
    static func store(_ people: PeopleDirectory, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO people_directory (id, member, issued_at, statement) VALUES (1, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET member = excluded.member, issued_at = excluded.issued_at, statement = excluded.statement
                WHERE excluded.issued_at >= people_directory.issued_at OR excluded.member != people_directory.member
                """,
            arguments: [EntityID(people.member).blob, people.issuedAt, try encode(people)])
    }
}
