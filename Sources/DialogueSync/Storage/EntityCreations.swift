import DialogueModel
import GRDB

/// The original creations of every entity (``EntityLifecycle/originalCreations``: a
/// `create` that overwrote nothing), materialised so that capture order and authorship are
/// read without building a space's document from its change log.
///
/// Kept by ``Materializer`` with the other derived rows, from the same document, whenever
/// a change touches an entity's lifecycle (create, delete, erase).
enum EntityCreations {
    static let createTable = """
        CREATE TABLE entity_creations (
            entity_id BLOB NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL,
            space_id BLOB NOT NULL, wall_time INTEGER NOT NULL, logical INTEGER NOT NULL,
            PRIMARY KEY (entity_id, replica, counter)
        ) WITHOUT ROWID;
        CREATE INDEX entity_creations_by_space ON entity_creations (space_id)
        """

    /// Rewrites `entity`'s rows from `document` (none when no original creation is held).
    static func refresh(_ entity: EntityID, space: SpaceID, from document: SpaceDocument, _ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM entity_creations WHERE entity_id = ?").execute(arguments: [entity.blob])
        for creation in document.lifecycle(of: entity)?.originalCreations ?? [] {
            try db.cachedStatement(
                sql: "INSERT INTO entity_creations (entity_id, replica, counter, space_id, wall_time, logical) VALUES (?, ?, ?, ?, ?, ?)"
            ).execute(arguments: [
                entity.blob, creation.dot.replica.storedValue, Int64(bitPattern: creation.dot.counter), space.blob,
                Int64(bitPattern: creation.timestamp.wallTime), Int(creation.timestamp.logical),
            ])
        }
    }

    /// Creates the table and fills it from every held space's log: the one time an upgrade
    /// replays the logs (a replica older than this table knows no creations otherwise).
    static func addTable(_ db: Database) throws {
        try db.execute(sql: createTable)
        for space in try Replica.heldSpaces(db) {
            let document = try Replica.loadDocument(space, db)
            for entity in document.entities.keys { try refresh(entity, space: space, from: document, db) }
        }
    }

    /// One original creation as stored: its device and clock.
    struct Creation: Sendable, Hashable {
        let device: ReplicaID
        let counter: UInt64
        let timestamp: HLCTimestamp
    }

    /// The original creations of `entities` held in the replica, each entity's in
    /// last-writer-wins order (timestamp, then device, then counter), as the document gives them.
    static func creations(of entities: [EntityID], _ db: Database) throws -> [EntityID: [Creation]] {
        var result: [EntityID: [Creation]] = [:]
        let statement = try db.cachedStatement(
            sql: "SELECT replica, counter, wall_time, logical FROM entity_creations WHERE entity_id = ?")
        for entity in Set(entities) {
            var found: [Creation] = []
            for row in try Row.fetchAll(statement, arguments: [entity.blob]) {
                guard let device = ReplicaID(storedValue: row["replica"]) else { continue }
                let wall: Int64 = row["wall_time"]
                let logical: Int = row["logical"]
                let counter: Int64 = row["counter"]
                found.append(
                    Creation(
                        device: device, counter: UInt64(bitPattern: counter),
                        timestamp: HLCTimestamp(wallTime: UInt64(bitPattern: wall), logical: UInt16(clamping: logical))))
            }
            guard !found.isEmpty else { continue }
            result[entity] = found.sorted {
                ($0.timestamp, $0.device, $0.counter) < ($1.timestamp, $1.device, $1.counter)
            }
        }
        return result
    }
}
