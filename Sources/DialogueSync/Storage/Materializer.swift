import DialogueModel
import Foundation
import GRDB

/// Keeps the materialised rows in step with the pure model, inside the transaction
/// that stores the changes.
///
/// A created or deleted entity gets its whole row upserted; an edit updates only the
/// columns of the fields it touched (so indexes on other columns are left alone), and
/// child tables, the full-text index and conflict rows are rewritten only when a field
/// that feeds them was touched.
struct Materializer {
    let space: SpaceID
    let after: SpaceDocument
    /// Registers whose conflict rows are stored (kept by the replica, updated here), so
    /// a register that stops conflicting has its rows removed without a query per write.
    var conflicted: Set<FieldRef>
    /// The register writes erasures stripped: never shown as concurrent values.
    private let erasedWrites: ErasedWrites
    /// The tables written so far, so observation is told about those alone (a few names:
    /// an array, not a set that hashes each name for every entity).
    private(set) var changedTables: [String] = []

    init(space: SpaceID, after: SpaceDocument, conflicted: Set<FieldRef>) {
        self.space = space
        self.after = after
        self.conflicted = conflicted
        erasedWrites = ErasedWrites(after)
    }

    private mutating func noteChanged(_ table: String) {
        if !changedTables.contains(table) { changedTables.append(table) }
    }

    /// What a batch touched in one entity.
    struct Touch {
        /// The fields written, each once (an entity has a handful, so a scan beats a set).
        var fields: [String] = []
        var lifecycle = false

        mutating func note(_ change: Change) {
            switch change.operation {
            case .create, .delete, .erase: lifecycle = true
            default: if !fields.contains(change.field) { fields.append(change.field) }
            }
        }

        mutating func formUnion(_ other: Touch) {
            lifecycle = lifecycle || other.lifecycle
            for field in other.fields where !fields.contains(field) { fields.append(field) }
        }
    }

    /// Groups changes by entity.
    static func touches(of changes: some Sequence<Change>) -> [EntityID: Touch] {
        var touches: [EntityID: Touch] = [:]
        collect(changes, into: &touches)
        return touches
    }

    /// Adds what `changes` touch to `touches`, each change noted in place in its entity's
    /// entry; consecutive changes to one entity (a form, a typed note) reuse its position.
    static func collect(_ changes: some Sequence<Change>, into touches: inout [EntityID: Touch]) {
        var last: (entity: EntityID, index: Dictionary<EntityID, Touch>.Index)?
        for change in changes {
            let index: Dictionary<EntityID, Touch>.Index
            if let last, last.entity == change.entity {
                index = last.index  // still valid: entries are only changed in place since
            } else if let found = touches.index(forKey: change.entity) {
                index = found
            } else {
                touches[change.entity] = Touch()
                index = touches.index(forKey: change.entity)!
            }
            touches.values[index].note(change)
            last = (change.entity, index)
        }
    }

    mutating func refresh(_ touches: [EntityID: Touch], in db: Database) throws {
        for (entity, touch) in touches { try refresh(entity, touch, db) }
        // The tables are WITHOUT ROWID, which SQLite's update hook does not report, so
        // tell GRDB's observation (a UI's ValueObservation) what changed: only the tables
        // written, since working out the events of every table costs more than the edits.
        guard !changedTables.isEmpty else { return }
        let region = try changedTables.reduce(into: DatabaseRegion()) { region, table in
            region.formUnion(try Table(table).databaseRegion(db))
        }
        try db.notifyChanges(in: region)
        changedTables = []
    }

    private mutating func refresh(_ id: EntityID, _ touch: Touch, _ db: Database) throws {
        // Who created an entity and when: for every kind, as the document keeps it.
        if touch.lifecycle {
            noteChanged("entity_creations")
            try EntityCreations.refresh(id, space: space, from: after, db)
        }
        // Entities of kinds this version does not know are stored and forwarded, not shown.
        guard let kind = after.entityKind(of: id), let spec = MaterializedTables.spec(for: kind) else { return }
        // An erased entity is gone for good: its rows go, not merely marked deleted.
        if !erasedWrites.isEmpty, after.isErased(id) { return try remove(id, spec, db) }
        // An entity with deletions is rewritten whole on any edit: the edit may overrule a
        // deletion (edit wins), which changes `deleted` and the search entry.
        let all = touch.lifecycle || after.hasDeletions(id)
        func touched(_ field: String) -> Bool { all || touch.fields.contains(field) }
        let deleted = all && after.isDeleted(id)  // only a deletion can hide an entity
        let key = id.blob
        var registers: [(field: String, register: LWWRegister<FieldValue>?)] = []
        noteChanged(spec.table)
        if all {
            // Existential elements: GRDB's generic initializer builds a key path at run time.
            var values: [(any DatabaseValueConvertible)?] = [key.databaseValue, space.blob.databaseValue]
            values.reserveCapacity(spec.columns.count + 3)
            for column in spec.columns { values.append(value(of: column.field, id, kind)) }
            values.append(deleted.databaseValue)
            try run(db, spec.upsertSQL, StatementArguments(values))
        } else {
            for field in touch.fields {
                guard let update = spec.update(of: field) else { continue }
                let value: DatabaseValue
                if update.isText {
                    value = after.text(field, of: id).databaseValue
                } else {
                    let register = after.register(field, of: id)
                    registers.append((field, register))  // for its conflict rows below: one lookup
                    value = register?.value?.databaseValue ?? .null
                }
                try run(db, update.sql, [value, key.databaseValue])
            }
        }
        for child in spec.children where touched(child.field) {
            noteChanged(child.table)
            try run(db, child.deleteSQL, [key])
            if child.ordered {
                for (position, item) in after.items(child.field, of: id).enumerated() {
                    try run(db, child.insertSQL, [key, position, item.value.databaseValue])
                }
            } else {
                for member in after.members(child.field, of: id) {
                    try run(db, child.insertSQL, [key, member.databaseValue])
                }
            }
        }
        if let search = spec.search,
            all || touch.fields.contains(search.bodyField) || search.titleFields.contains(where: touch.fields.contains)
        {
            let title = search.titleFields.compactMap { after.value($0, of: id)?.stringValue }.joined(separator: " — ")
            try index(db, id: key, kind: kind, title: title, body: after.text(search.bodyField, of: id), deleted: deleted)
        }
        for spec in kind.fields where spec.type == .register && touched(spec.name) {
            let register = registers.first { $0.field == spec.name }.map(\.register) ?? after.register(spec.name, of: id)
            try refreshConflicts(db, entity: id, key: key, kind: kind, field: spec.name, register: register)
        }
    }

    /// The stored form of a field: a text field's text, or a register's winning value.
    private func value(of field: String, _ id: EntityID, _ kind: EntityKind) -> DatabaseValue {
        if kind.fieldType(of: field) == .text { return after.text(field, of: id).databaseValue }
        return after.value(field, of: id)?.databaseValue ?? .null
    }

    /// Rewrites the conflict rows of one register when it has, or had, concurrent writes.
    private mutating func refreshConflicts(
        _ db: Database, entity: EntityID, key: Data, kind: EntityKind, field: String, register: LWWRegister<FieldValue>?
    ) throws {
        let ref = FieldRef(entity, field)
        var now = register?.writes ?? []
        if !erasedWrites.isEmpty { now.removeAll { erasedWrites.contains($0, of: ref) } }
        guard now.count > 1 || (!conflicted.isEmpty && conflicted.contains(ref)) else { return }
        noteChanged("field_conflicts")
        try run(db, "DELETE FROM field_conflicts WHERE entity_id = ? AND field = ?", [key, field])
        guard now.count > 1 else {
            conflicted.remove(ref)
            return
        }
        conflicted.insert(ref)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for (index, write) in now.enumerated() {
            let json = String(decoding: try encoder.encode(write.value), as: UTF8.self)
            try run(
                db,
                """
                INSERT INTO field_conflicts (entity_id, field, replica, counter, space_id, kind, value_json, wall_time, logical, is_winner)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    key, field, write.dot.replica.storedValue, Int64(bitPattern: write.dot.counter), space.blob, kind.rawValue, json,
                    Int64(bitPattern: write.timestamp.wallTime), Int(write.timestamp.logical), index == 0,
                ])
        }
    }

    /// Deletes every row of an erased entity: its row, child rows, conflict rows and search entry.
    private mutating func remove(_ id: EntityID, _ spec: MaterializedTables.Spec, _ db: Database) throws {
        let key = id.blob
        for child in spec.children {
            noteChanged(child.table)
            try run(db, child.deleteSQL, [key])
        }
        noteChanged("search_entities")
        try run(
            db, "DELETE FROM search_index WHERE rowid IN (SELECT search_rowid FROM search_entities WHERE entity_id = ?)", [key])
        try run(db, "DELETE FROM search_entities WHERE entity_id = ?", [key])
        noteChanged("field_conflicts")
        try run(db, "DELETE FROM field_conflicts WHERE entity_id = ?", [key])
        conflicted = conflicted.filter { $0.entity != id }
        noteChanged(spec.table)
        try run(db, "DELETE FROM \(spec.table) WHERE \(spec.key) = ?", [key])
    }

    /// Replaces an entity's full-text entry (none while it is deleted).
    private mutating func index(_ db: Database, id: Data, kind: EntityKind, title: String, body: String, deleted: Bool) throws {
        noteChanged("search_entities")
        let existing = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT search_rowid FROM search_entities WHERE entity_id = ?"), arguments: [id])
        let rowid: Int64
        if let existing {
            rowid = existing
            try run(db, "DELETE FROM search_index WHERE rowid = ?", [rowid])
        } else {
            try run(db, "INSERT INTO search_entities (entity_id, space_id, kind) VALUES (?, ?, ?)", [id, space.blob, kind.rawValue])
            rowid = db.lastInsertedRowID
        }
        guard !deleted else { return }
        try run(db, "INSERT INTO search_index (rowid, title, body) VALUES (?, ?, ?)", [rowid, title, body])
    }

    private func run(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }
}

extension FieldValue {
    /// The stored form: text, integer, 0/1, or a 16-byte identifier.
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .bool(let value): value.databaseValue
        case .int(let value): value.databaseValue
        case .string(let value): value.databaseValue
        case .timestamp(let value): value.databaseValue
        case .reference(let id): id.blob.databaseValue
        }
    }
}
