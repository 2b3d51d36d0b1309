import DialogueModel
import Foundation
import GRDB

/// The replica's trust cache: what it learnt from its server, every statement verified
/// against the server key ring before it was written, so every check works offline.
///
/// Statements are stored in their JSON form (the verifier re-encodes their canonical bytes
/// from the fields, so the stored form is as good as the signed one), beside the columns
/// they are looked up by.
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
}
