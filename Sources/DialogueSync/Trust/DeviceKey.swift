import Crypto
import Foundation
import GRDB

/// The replica's device key: an Ed25519 key pair made with the replica (or when a replica
/// older than device keys is first opened) and kept in its database, which is 0600. The
/// private half never leaves that table: bundles carry change blocks and exports carry
/// materialised rows, neither of which reads it.
struct DeviceKey: Sendable {
    /// Interim seam over swift-crypto, replaced by the model's `SigningKeyPair`.
    let rawRepresentation: Data
    let publicKeyBytes: Data

    /// A new random key pair.
    init() { try! self.init(rawRepresentation: Curve25519.Signing.PrivateKey().rawRepresentation) }

    /// The key pair whose private half is `raw` (32 bytes, as stored).
    init(rawRepresentation raw: Data) throws {
        rawRepresentation = raw
        publicKeyBytes = try Curve25519.Signing.PrivateKey(rawRepresentation: raw).publicKey.rawRepresentation
    }

    /// Signs `message` (a statement's canonical bytes).
    func sign(_ message: Data) throws -> Data {
        try Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation).signature(for: message)
    }

    // MARK: Storage

    /// The one-row table holding the key (created by the "v6-device-key" migration).
    static let createTable = """
        CREATE TABLE device_key (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            private_key BLOB NOT NULL,
            public_key BLOB NOT NULL,
            created_at INTEGER NOT NULL
        )
        """

    /// Makes and stores the key unless the replica has one (a migration, or a repair of a
    /// file whose row was removed by hand, must never replace a key).
    static func createIfAbsent(_ db: Database, now: Int64) throws {
        let key = DeviceKey()
        try db.execute(
            sql: "INSERT OR IGNORE INTO device_key (id, private_key, public_key, created_at) VALUES (1, ?, ?, ?)",
            arguments: [key.rawRepresentation, key.publicKeyBytes, now])
    }

    /// The stored key; a replica without one, or with a damaged one, is refused.
    static func load(_ db: Database) throws -> DeviceKey {
        guard let row = try Row.fetchOne(db, sql: "SELECT private_key, public_key FROM device_key WHERE id = 1") else {
            throw ReplicaError.storage("the replica has no device key (its device_key table is empty)")
        }
        let key: DeviceKey
        do { key = try DeviceKey(rawRepresentation: row["private_key"]) } catch {
            throw ReplicaError.storage("the replica's device key is damaged: \(error)")
        }
        guard key.publicKeyBytes == row["public_key"] as Data else {
            throw ReplicaError.storage("the replica's device key is damaged: its public half does not match its private half")
        }
        return key
    }
}
