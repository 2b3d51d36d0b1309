import DialogueModel
import GRDB

/// How each entity kind maps onto the materialised tables of ``MaterializedSchema``.
enum MaterializedTables {
    /// One kind's table: its key column, the columns fed by register and text fields,
    /// the child tables fed by set and list fields, and what the full-text index holds.
    struct Spec {
        let table: String
        let key: String
        let columns: [(field: String, column: String)]
        let children: [Child]
        let search: Search?
        /// Inserts or fully rewrites a row: key, space, every column, deleted.
        let upsertSQL: String
        /// Per column (same order): the statement that updates just it, and whether its
        /// field is collaborative text (stored as its text) or a register (its winner).
        /// Found by scanning: a kind has a handful of short field names.
        private(set) var updates: [(field: String, sql: String, isText: Bool)] = []

        /// The update of one field's column, or `nil` for a field without one.
        func update(of field: String) -> (sql: String, isText: Bool)? {
            for update in updates where update.field == field { return (update.sql, update.isText) }
            return nil
        }

        /// The same spec with each column's field type looked up in `kind`'s schema.
        func resolved(for kind: EntityKind) -> Spec {
            var copy = self
            copy.updates = columns.map { column in
                (column.field, "UPDATE \(table) SET \(column.column) = ? WHERE \(key) = ?", kind.fieldType(of: column.field) == .text)
            }
            return copy
        }

        init(table: String, key: String, columns: [(field: String, column: String)], children: [Child] = [], search: Search? = nil) {
            self.table = table
            self.key = key
            self.columns = columns
            self.children = children
            self.search = search
            var names = [key, "space_id"]
            var updates: [String] = []
            for (_, column) in columns {
                names.append(column)
                updates.append("\(column) = excluded.\(column)")
            }
            names.append("deleted")
            updates.append("deleted = excluded.deleted")
            let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
            upsertSQL =
                "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(placeholders)) "
                + "ON CONFLICT (\(key)) DO UPDATE SET \(updates.joined(separator: ", "))"
        }
    }

    /// A child table holding a set (unordered) or list (ordered, with `position`).
    struct Child {
        let field: String
        let table: String
        let parent: String
        let column: String
        let ordered: Bool
        /// Clears a parent's rows; then `insertSQL` writes each member or item.
        let deleteSQL: String
        let insertSQL: String

        init(field: String, table: String, parent: String, column: String, ordered: Bool = false) {
            self.field = field
            self.table = table
            self.parent = parent
            self.column = column
            self.ordered = ordered
            deleteSQL = "DELETE FROM \(table) WHERE \(parent) = ?"
            insertSQL =
                ordered
                ? "INSERT INTO \(table) (\(parent), position, \(column)) VALUES (?, ?, ?)"
                : "INSERT OR IGNORE INTO \(table) (\(parent), \(column)) VALUES (?, ?)"
        }
    }

    /// Which fields feed an entity's full-text entry: the collaborative text (session
    /// summaries, insight text) and a session's title.
    struct Search {
        let titleFields: [String]
        let bodyField: String
    }

    static func spec(for kind: EntityKind) -> Spec? { specsByOrdinal[kind.ordinal] }

    /// `specs` indexed by the kind's ordinal: looked up for every entity a write touches.
    private static let specsByOrdinal: [Spec?] = EntityKind.allCases.map { kind in specs[kind]?.resolved(for: kind) }

    private static let specs: [EntityKind: Spec] = [
        .partnership: Spec(
            table: "partnerships", key: "partnership_id",
            columns: [(Partnership.Field.name, "name"), (Partnership.Field.continuum, "continuum")],
            children: [Child(field: Partnership.Field.schools, table: "partnership_schools", parent: "partnership_id", column: "school_id")]
        ),
        .school: Spec(
            table: "schools", key: "school_id",
            columns: [(School.Field.name, "name"), (School.Field.reference, "reference"), (School.Field.partnership, "partnership_id")]),
        .member: Spec(
            table: "members", key: "member_id",
            columns: [(Member.Field.displayName, "display_name"), (Member.Field.role, "role"), (Member.Field.homeSchool, "home_school")]),
        .space: Spec(
            table: "space_descriptions", key: "description_id",
            columns: [(Space.Field.ownerKind, "owner_kind"), (Space.Field.owner, "owner")],
            children: [Child(field: Space.Field.members, table: "space_members", parent: "description_id", column: "member_id")]),
        .session: Spec(
            table: "sessions", key: "session_id",
            columns: [
                (DialogueSession.Field.title, "title"), (DialogueSession.Field.scheduledAt, "scheduled_at"),
                (DialogueSession.Field.hostSchool, "host_school"), (DialogueSession.Field.facilitator, "facilitator"),
                (DialogueSession.Field.focus, "focus"), (DialogueSession.Field.strategy, "strategy"),
                (DialogueSession.Field.status, "status"), (DialogueSession.Field.summary, "summary"),
            ],
            children: [
                Child(field: DialogueSession.Field.participants, table: "session_participants", parent: "session_id", column: "member_id"),
                Child(field: DialogueSession.Field.agenda, table: "agenda_items", parent: "session_id", column: "prompt_id", ordered: true),
            ],
            search: Search(titleFields: [DialogueSession.Field.title], bodyField: DialogueSession.Field.summary)),
        .prompt: Spec(
            table: "prompts", key: "prompt_id",
            columns: [(Prompt.Field.text, "text"), (Prompt.Field.theme, "theme"), (Prompt.Field.source, "source")]),
        .insight: Spec(
            table: "insights", key: "insight_id",
            columns: [
                (Insight.Field.session, "session_id"), (Insight.Field.prompt, "prompt_id"), (Insight.Field.author, "author"),
                (Insight.Field.kind, "kind"), (Insight.Field.evidenceSource, "evidence_source"), (Insight.Field.influence, "influence"),
                (Insight.Field.text, "text"),
            ],
            children: [Child(field: Insight.Field.hallmarks, table: "insight_hallmarks", parent: "insight_id", column: "hallmark")],
            search: Search(titleFields: [], bodyField: Insight.Field.text)),
        .action: Spec(
            table: "actions", key: "action_id",
            columns: [
                (Action.Field.description, "description"), (Action.Field.owner, "owner"), (Action.Field.dueDate, "due_date"),
                (Action.Field.status, "status"), (Action.Field.insight, "insight_id"), (Action.Field.session, "session_id"),
            ]),
    ]
}
