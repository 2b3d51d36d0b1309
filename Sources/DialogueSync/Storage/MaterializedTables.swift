import DialogueModel
import GRDB

/// How each entity kind maps onto the materialised tables of ``MaterializedSchema``: the
/// kind's table and key are named here, and every column and child table is derived from
/// the kind's field descriptors (``FieldDescriptor/storage``).
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

        /// The spec of `kind`'s table: a column per register or text field, a child table
        /// (keyed by `key`) per set or list field, as the descriptors say.
        init(_ kind: EntityKind, table: String, key: String, search: Search? = nil) {
            var columns: [(field: String, column: String)] = []
            var children: [Child] = []
            var columnUpdates: [(field: String, sql: String, isText: Bool)] = []
            for field in kind.fields {
                switch field.storage {
                case .column(let column):
                    columns.append((field.name, column))
                    columnUpdates.append((field.name, "UPDATE \(table) SET \(column) = ? WHERE \(key) = ?", field.type == .text))
                case .childTable(let child, let column):
                    children.append(Child(field: field.name, table: child, parent: key, column: column, ordered: field.type == .list))
                }
            }
            self.table = table
            self.key = key
            self.columns = columns
            self.children = children
            self.search = search
            updates = columnUpdates
            var names = [key, "space_id"]
            var assignments: [String] = []
            for (_, column) in columns {
                names.append(column)
                assignments.append("\(column) = excluded.\(column)")
            }
            names.append("deleted")
            assignments.append("deleted = excluded.deleted")
            let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
            upsertSQL =
                "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(placeholders)) "
                + "ON CONFLICT (\(key)) DO UPDATE SET \(assignments.joined(separator: ", "))"
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

    /// Every kind's spec, indexed by the kind's ordinal: looked up for every entity a write touches.
    private static let specsByOrdinal: [Spec?] = EntityKind.allCases.map(makeSpec)

    private static func makeSpec(_ kind: EntityKind) -> Spec {
        switch kind {
        case .partnership: Spec(kind, table: "partnerships", key: "partnership_id")
        case .school: Spec(kind, table: "schools", key: "school_id")
        case .member: Spec(kind, table: "members", key: "member_id")
        case .space: Spec(kind, table: "space_descriptions", key: "description_id")
        case .session:
            Spec(
                kind, table: "sessions", key: "session_id",
                search: Search(titleFields: [DialogueSession.Field.title], bodyField: DialogueSession.Field.summary))
        case .prompt: Spec(kind, table: "prompts", key: "prompt_id")
        case .insight: Spec(kind, table: "insights", key: "insight_id", search: Search(titleFields: [], bodyField: Insight.Field.text))
        case .action: Spec(kind, table: "actions", key: "action_id")
        }
    }
}

extension MaterializedTables {
    /// The column a register or text field is materialised in (its descriptor's storage).
    static func column<View, Value>(_ key: FieldKey<View, Value>) -> String {
        guard case .column(let column) = key.descriptor.storage else { preconditionFailure("\(key.name) has no column") }
        return column
    }

    /// `alias.key, alias.space_id` and the column of every register field of `kind`, for a
    /// SELECT list (text fields, which can be long, are left to those who ask for them).
    static func registerColumns(of kind: EntityKind, alias: String) -> String {
        guard let spec = spec(for: kind) else { return "" }
        let registers = spec.columns.filter { kind.fieldType(of: $0.field) == .register }.map { "\(alias).\($0.column)" }
        return (["\(alias).\(spec.key)", "\(alias).space_id"] + registers).joined(separator: ", ")
    }
}
