import DialogueModel
import DialogueServer
import Foundation
import GRDB

/// A server store as the version before signing (commit 9e86db4) left it: its schema and
/// rows spelled out here, so later code cannot alter them. One school (Hill Primary) in one
/// partnership (North), a member (Ada) with a token, and in the shared space a session
/// written by an old device that never upgrades (``author``): changes with no heads.
enum PreSigningStore {
    static let school = UUID(uuidString: "0a1b2c3d-4e5f-4a6b-8c7d-000000000001")!
    static let partnership = UUID(uuidString: "99999999-8888-4777-8666-000000000002")!
    static let member = UUID(uuidString: "6f1c2a3b-4d5e-4f60-8a7b-000000000003")!
    static let tokenID = UUID(uuidString: "70c0e000-0000-4000-8000-000000000004")!
    static let token = "dlg_pre_signing_token_for_ada"
    static let privateSpace = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000f001")!)
    /// The partnership's shared space: the space of the replica fixture made by the first
    /// replica schema (Tests/DialogueSyncTests/Fixtures/replica-v1.sqlite), so that replica
    /// and this store upgrade together in the client's tests.
    static let sharedSpace = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000f1a7e")!)
    /// The old device whose changes the store holds.
    static let author = ReplicaID(rawValue: 0x0B1D_0000_0000_0001)!
    static let session = EntityID(UUID(uuidString: "5e550000-0000-4000-8000-00000000f003")!)
    static let title = "Written before signing"

    /// The old device's changes in the shared space (create a session, title it), one per row as v1 stored them.
    static var changes: [Change] {
        var document = SpaceDocument(space: sharedSpace)
        var logical: UInt16 = 0
        func context() -> EditContext {
            defer { logical += 1 }
            return EditContext(replica: author, timestamp: HLCTimestamp(wallTime: 1_767_225_600_000, logical: logical))
        }
        return [
            document.create(session, kind: .session, by: context()),
            document.set(DialogueSession.Field.title, of: session, to: .string(title), by: context()),
        ]
    }

    /// What the store holds of the shared space: its legacy vector once opened by this version.
    static var legacy: VersionVector { VersionVector([author: changes.last!.lastCounter]) }

    static var tokenHash: [UInt8] { Tokens.hash(token) }

    /// Writes the SQLite store (schema "v1", the only migration before signing) at `path`.
    static func writeSQLite(at path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations (identifier) VALUES ('v1');
                    CREATE TABLE server_changes (
                        space_id BLOB NOT NULL, seq INTEGER NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL,
                        last_counter INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (space_id, seq)
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX server_changes_by_author ON server_changes (space_id, replica, counter);
                    CREATE TABLE server_vectors (
                        space_id BLOB NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL, PRIMARY KEY (space_id, replica)
                    ) WITHOUT ROWID;
                    CREATE TABLE partnerships (partnership_id BLOB PRIMARY KEY, name TEXT NOT NULL, shared_space BLOB NOT NULL UNIQUE);
                    CREATE TABLE schools (school_id BLOB PRIMARY KEY, name TEXT NOT NULL, private_space BLOB NOT NULL UNIQUE);
                    CREATE TABLE partnership_schools (
                        partnership_id BLOB NOT NULL, school_id BLOB NOT NULL, PRIMARY KEY (partnership_id, school_id)
                    );
                    CREATE TABLE members (
                        member_id BLOB PRIMARY KEY, name TEXT NOT NULL, school_id BLOB NOT NULL REFERENCES schools (school_id),
                        access TEXT NOT NULL
                    );
                    CREATE TABLE tokens (
                        token_id BLOB PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE, member_id BLOB NOT NULL REFERENCES members (member_id),
                        label TEXT NOT NULL, issued_at INTEGER NOT NULL, revoked_at INTEGER
                    );
                    """)
            try db.execute(sql: "INSERT INTO partnerships VALUES (?, 'North', ?)", arguments: [blob(partnership), blob(sharedSpace.uuid)])
            try db.execute(sql: "INSERT INTO schools VALUES (?, 'Hill Primary', ?)", arguments: [blob(school), blob(privateSpace.uuid)])
            try db.execute(sql: "INSERT INTO partnership_schools VALUES (?, ?)", arguments: [blob(partnership), blob(school)])
            try db.execute(sql: "INSERT INTO members VALUES (?, 'Ada', ?, 'member')", arguments: [blob(member), blob(school)])
            try db.execute(
                sql: "INSERT INTO tokens VALUES (?, ?, ?, 'laptop', 1767225600000, NULL)",
                arguments: [blob(tokenID), Data(tokenHash), blob(member)])
            for (index, change) in changes.enumerated() {
                try db.execute(
                    sql: "INSERT INTO server_changes VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        blob(sharedSpace.uuid), index + 1, Int64(bitPattern: author.rawValue), Int64(change.id.counter),
                        Int64(change.lastCounter), Data(ChangeCodec.encode([change])),
                    ])
            }
            try db.execute(
                sql: "INSERT INTO server_vectors VALUES (?, ?, ?)",
                arguments: [blob(sharedSpace.uuid), Int64(bitPattern: author.rawValue), Int64(legacy[author])])
        }
        try queue.close()
    }

    /// The SQL that makes the PostgreSQL store (the tables before signing, with the rows).
    static var postgresSQL: String {
        func hex(_ bytes: some Sequence<UInt8>) -> String { "'\\x" + bytes.map { String(format: "%02x", $0) }.joined() + "'::bytea" }
        let space = sharedSpace.uuid.uuidString.lowercased()
        var sql = """
            CREATE TABLE server_changes (
                space_id uuid NOT NULL, seq bigint NOT NULL, replica bigint NOT NULL, counter bigint NOT NULL,
                last_counter bigint NOT NULL, body bytea NOT NULL, PRIMARY KEY (space_id, seq));
            CREATE UNIQUE INDEX server_changes_by_author ON server_changes (space_id, replica, counter);
            CREATE TABLE server_vectors (
                space_id uuid NOT NULL, replica bigint NOT NULL, counter bigint NOT NULL, PRIMARY KEY (space_id, replica));
            CREATE TABLE partnerships (partnership_id uuid PRIMARY KEY, name text NOT NULL, shared_space uuid NOT NULL UNIQUE);
            CREATE TABLE schools (school_id uuid PRIMARY KEY, name text NOT NULL, private_space uuid NOT NULL UNIQUE);
            CREATE TABLE partnership_schools (
                partnership_id uuid NOT NULL REFERENCES partnerships, school_id uuid NOT NULL REFERENCES schools,
                PRIMARY KEY (partnership_id, school_id));
            CREATE TABLE members (
                member_id uuid PRIMARY KEY, name text NOT NULL, school_id uuid NOT NULL REFERENCES schools, access text NOT NULL);
            CREATE TABLE tokens (
                token_id uuid PRIMARY KEY, token_hash bytea NOT NULL UNIQUE, member_id uuid NOT NULL REFERENCES members,
                label text NOT NULL, issued_at bigint NOT NULL, revoked_at bigint);
            CREATE TABLE server_space_heads (space_id uuid PRIMARY KEY, seq bigint NOT NULL);
            INSERT INTO partnerships VALUES ('\(partnership.uuidString.lowercased())', 'North', '\(space)');
            INSERT INTO schools VALUES ('\(school.uuidString.lowercased())', 'Hill Primary', '\(privateSpace.uuid.uuidString.lowercased())');
            INSERT INTO partnership_schools VALUES ('\(partnership.uuidString.lowercased())', '\(school.uuidString.lowercased())');
            INSERT INTO members VALUES ('\(member.uuidString.lowercased())', 'Ada', '\(school.uuidString.lowercased())', 'member');
            INSERT INTO tokens VALUES (
                '\(tokenID.uuidString.lowercased())', \(hex(tokenHash)), '\(member.uuidString.lowercased())', 'laptop', 1767225600000, NULL);

            """
        for (index, change) in changes.enumerated() {
            sql += """
                INSERT INTO server_changes VALUES ('\(space)', \(index + 1), \(Int64(bitPattern: author.rawValue)), \(change.id.counter), \
                \(change.lastCounter), \(hex(ChangeCodec.encode([change]))));

                """
        }
        sql += "INSERT INTO server_vectors VALUES ('\(space)', \(Int64(bitPattern: author.rawValue)), \(legacy[author]));\n"
        sql += "INSERT INTO server_space_heads VALUES ('\(space)', \(changes.count));\n"
        return sql
    }

    private static func blob(_ uuid: UUID) -> Data { withUnsafeBytes(of: uuid.uuid) { Data($0) } }
}
