import DialogueModel
import Foundation
import GRDB

/// Rewrites the materialised rows of the entities a batch of changes touched, from the
/// pure model after the batch. One upsert per touched entity; child tables, the
/// full-text index and conflict rows only when a field that feeds them was touched.
struct Materializer {
    let space: SpaceID
    let before: SpaceDocument
    let after: SpaceDocument

    /// What a batch touched in one entity.
    struct Touch {
        var fields: Set<String> = []
        var lifecycle = false
    }

    /// Groups changes by entity.
    static func touches(of changes: some Sequence<Change>) -> [EntityID: Touch] {
        var touches: [EntityID: Touch] = [:]
        for change in changes {
            switch change.operation {
            case .create, .delete: touches[change.entity, default: Touch()].lifecycle = true
            default: touches[change.entity, default: Touch()].fields.insert(change.field)
            }
        }
        return touches
    }

    func refresh(_ touches: [EntityID: Touch], in db: Database) throws {
        for (entity, touch) in touches { try refresh(entity, touch, db) }
    }

    private func refresh(_ id: EntityID, _ touch: Touch, _ db: Database) throws {
        // Entities of kinds this version does not know are stored and forwarded, not shown.
        guard let kind = after.entityKind(of: id) else { return }
        let all = touch.lifecycle
        func touched(_ field: String) -> Bool { all || touch.fields.contains(field) }
        let deleted = after.isDeleted(id)
        let idBlob = id.blob
        let spaceBlob = space.blob
        switch kind {
        case .partnership:
            guard let view = Partnership(id, in: after) else { return }
            try run(
                db,
                """
                INSERT INTO partnerships (partnership_id, space_id, name, continuum, deleted) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (partnership_id) DO UPDATE SET name = excluded.name, continuum = excluded.continuum, deleted = excluded.deleted
                """, [idBlob, spaceBlob, view.name, view.continuum?.rawValue, deleted])
            if touched(Partnership.Field.schools) {
                try replaceChildren(db, table: "partnership_schools", key: "partnership_id", id: idBlob, column: "school_id", values: view.schools.map(\.blob))
            }
        case .school:
            guard let view = School(id, in: after) else { return }
            try run(
                db,
                """
                INSERT INTO schools (school_id, space_id, name, reference, partnership_id, deleted) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (school_id) DO UPDATE SET name = excluded.name, reference = excluded.reference,
                    partnership_id = excluded.partnership_id, deleted = excluded.deleted
                """, [idBlob, spaceBlob, view.name, view.reference, view.partnership?.blob, deleted])
        case .member:
            guard let view = Member(id, in: after) else { return }
            try run(
                db,
                """
                INSERT INTO members (member_id, space_id, display_name, role, home_school, deleted) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (member_id) DO UPDATE SET display_name = excluded.display_name, role = excluded.role,
                    home_school = excluded.home_school, deleted = excluded.deleted
                """, [idBlob, spaceBlob, view.displayName, view.role?.rawValue, view.homeSchool?.blob, deleted])
        case .space:
            guard let view = Space(id, in: after) else { return }
            try run(
                db,
                """
                INSERT INTO space_descriptions (description_id, space_id, owner_kind, owner, deleted) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (description_id) DO UPDATE SET owner_kind = excluded.owner_kind, owner = excluded.owner, deleted = excluded.deleted
                """, [idBlob, spaceBlob, view.ownerKind?.rawValue, view.owner?.blob, deleted])
            if touched(Space.Field.members) {
                try replaceChildren(db, table: "space_members", key: "description_id", id: idBlob, column: "member_id", values: view.members.map(\.blob))
            }
        case .session:
            guard let view = DialogueSession(id, in: after) else { return }
            try run(
                db,
                """
                INSERT INTO sessions (session_id, space_id, title, scheduled_at, host_school, facilitator, focus, strategy, status, summary, deleted)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (session_id) DO UPDATE SET title = excluded.title, scheduled_at = excluded.scheduled_at,
                    host_school = excluded.host_school, facilitator = excluded.facilitator, focus = excluded.focus,
                    strategy = excluded.strategy, status = excluded.status, summary = excluded.summary, deleted = excluded.deleted
                """,
                [
                    idBlob, spaceBlob, view.title, view.scheduledAt, view.hostSchool?.blob, view.facilitator?.blob, view.focus,
                    view.strategy?.rawValue, view.status?.rawValue, view.summary, deleted,
                ])
            if touched(DialogueSession.Field.participants) {
                try replaceChildren(
                    db, table: "session_participants", key: "session_id", id: idBlob, column: "member_id", values: view.participants.map(\.blob))
            }
            if touched(DialogueSession.Field.agenda) {
                try run(db, "DELETE FROM agenda_items WHERE session_id = ?", [idBlob])
                for (position, prompt) in view.agenda.enumerated() {
                    try run(db, "INSERT INTO agenda_items (session_id, position, prompt_id) VALUES (?, ?, ?)", [idBlob, position, prompt.blob])
                }
            }
            if touched(DialogueSession.Field.summary) || touched(DialogueSession.Field.title) || touched(DialogueSession.Field.focus) {
                let title = [view.title, view.focus].compactMap { $0 }.joined(separator: " — ")
                try index(db, id: idBlob, kind: kind, title: title, body: view.summary, deleted: deleted)
            }
        case .prompt:
            guard let view = Prompt(id, in: after) else { return }
            try run(
                db,
                """
                INSERT INTO prompts (prompt_id, space_id, text, theme, source, deleted) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (prompt_id) DO UPDATE SET text = excluded.text, theme = excluded.theme, source = excluded.source,
                    deleted = excluded.deleted
                """, [idBlob, spaceBlob, view.text, view.theme, view.source, deleted])
        case .insight:
            guard let view = Insight(id, in: after) else { return }
            try run(
                db,
                """
                INSERT INTO insights (insight_id, space_id, session_id, prompt_id, author, kind, evidence_source, influence, text, deleted)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (insight_id) DO UPDATE SET session_id = excluded.session_id, prompt_id = excluded.prompt_id,
                    author = excluded.author, kind = excluded.kind, evidence_source = excluded.evidence_source,
                    influence = excluded.influence, text = excluded.text, deleted = excluded.deleted
                """,
                [
                    idBlob, spaceBlob, view.session?.blob, view.prompt?.blob, view.author?.blob, view.kind?.rawValue, view.evidenceSource,
                    view.influence?.rawValue, view.text, deleted,
                ])
            if touched(Insight.Field.hallmarks) {
                try replaceChildren(
                    db, table: "insight_hallmarks", key: "insight_id", id: idBlob, column: "hallmark", values: view.hallmarks.map(\.rawValue))
            }
            if touched(Insight.Field.text) {
                try index(db, id: idBlob, kind: kind, title: "", body: view.text, deleted: deleted)
            }
        case .action:
            guard let view = Action(id, in: after) else { return }
            try run(
                db,
                """
                INSERT INTO actions (action_id, space_id, description, owner, due_date, status, insight_id, session_id, deleted)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (action_id) DO UPDATE SET description = excluded.description, owner = excluded.owner,
                    due_date = excluded.due_date, status = excluded.status, insight_id = excluded.insight_id,
                    session_id = excluded.session_id, deleted = excluded.deleted
                """,
                [
                    idBlob, spaceBlob, view.description, view.owner?.blob, view.dueDate, view.status?.rawValue, view.insight?.blob,
                    view.session?.blob, deleted,
                ])
        }
        for spec in kind.fields where spec.type == .register && touched(spec.name) {
            try refreshConflicts(db, entity: id, idBlob: idBlob, kind: kind, field: spec.name)
        }
    }

    /// Rewrites the conflict rows of one register when it has, or had, concurrent writes.
    private func refreshConflicts(_ db: Database, entity: EntityID, idBlob: Data, kind: EntityKind, field: String) throws {
        let now = after.register(field, of: entity)?.writes ?? []
        let previously = before.register(field, of: entity)?.writes.count ?? 0
        guard now.count > 1 || previously > 1 else { return }
        try run(db, "DELETE FROM field_conflicts WHERE entity_id = ? AND field = ?", [idBlob, field])
        guard now.count > 1 else { return }
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
                    idBlob, field, write.dot.replica.storedValue, Int64(bitPattern: write.dot.counter), space.blob, kind.rawValue, json,
                    Int64(bitPattern: write.timestamp.wallTime), Int(write.timestamp.logical), index == 0,
                ])
        }
    }

    /// Replaces the rows of a child table (a set field) for one parent.
    private func replaceChildren(
        _ db: Database, table: String, key: String, id: Data, column: String, values: [some DatabaseValueConvertible]
    ) throws {
        try run(db, "DELETE FROM \(table) WHERE \(key) = ?", [id])
        for value in values {
            try run(db, "INSERT INTO \(table) (\(key), \(column)) VALUES (?, ?)", [id, value])
        }
    }

    /// Replaces an entity's full-text entry (none while it is deleted).
    private func index(_ db: Database, id: Data, kind: EntityKind, title: String, body: String, deleted: Bool) throws {
        let existing = try Int64.fetchOne(db.cachedStatement(sql: "SELECT search_rowid FROM search_entities WHERE entity_id = ?"), arguments: [id])
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
