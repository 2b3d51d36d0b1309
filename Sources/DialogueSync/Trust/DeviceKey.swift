import DialogueModel
import Foundation
import GRDB

/// Where the replica keeps its device key: an Ed25519 pair (``SigningKeyPair``) made with
/// the replica, or when a replica older than device keys is first opened, in a one-row
/// table of its database (which is 0600). The private half never leaves that table:
/// bundles carry change blocks and exports materialised rows, neither of which reads it.
enum DeviceKeyStore {
    /// The table (created by the "v6-device-key" migration).
    static let createTable = """
        CREATE TABLE device_key (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            private_key BLOB NOT NULL,
            public_key BLOB NOT NULL,
            created_at INTEGER NOT NULL
        )
        """

    /// Makes and stores a key unless the replica has one: a key is never replaced, since
    /// the server binds the replica's id to it.
    static func createIfAbsent(_ db: Database, now: Int64) throws {
        let key = SigningKeyPair()
        try db.execute(
            sql: "INSERT OR IGNORE INTO device_key (id, private_key, public_key, created_at) VALUES (1, ?, ?, ?)",
            arguments: [Data(key.rawRepresentation), Data(key.publicKey.rawRepresentation), now])
    }

    /// The stored key; a replica without one, or with a damaged one, is refused (making a
    /// new one silently would orphan the replica's id on the server).
    static func load(_ db: Database) throws -> SigningKeyPair {
        guard let row = try Row.fetchOne(db, sql: "SELECT private_key, public_key FROM device_key WHERE id = 1") else {
            throw ReplicaError.storage("the replica has no device key (its device_key table is empty); it cannot sign or log in")
        }
        let key: SigningKeyPair
        let (privateKey, publicKey) = (
            try row.required("private_key", of: "device_key", \.storedBlob), try row.required("public_key", of: "device_key", \.storedBlob)
        )
        do { key = try SigningKeyPair(rawRepresentation: privateKey) } catch {
            throw ReplicaError.storage("the replica's device key is damaged: \(error)", underlying: error)
        }
        guard Data(key.publicKey.rawRepresentation) == publicKey else {
            throw ReplicaError.storage("the replica's device key is damaged: its public half does not match its private half")
        }
        return key
    }
}
