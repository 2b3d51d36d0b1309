import DialogueModel
import Foundation
import GRDB

/// The replica's queries as functions of a database connection, for
/// ``Replica/observe(_:)`` or to combine several in one read:
///
/// ```swift
/// let (sessions, overdue) = try replica.reader.read { db in
///     (try ReplicaQueries.sessions(db, in: space), try ReplicaQueries.overdueActions(db, asOf: "2025-03-01"))
/// }
/// ```
///
/// Each has the meaning of the ``Replica`` method of the same name; they throw the
/// database's errors as they are (and ``ReplicaError/invalidValue(_:)`` for bad input).
public enum ReplicaQueries {
    // MARK: Sessions

    /// The session key, space and register columns, as the descriptors name them.
    static let sessionColumns = MaterializedTables.registerColumns(of: .session, alias: "s")
    private typealias S = DialogueSession.Key
    private typealias I = Insight.Key
    private typealias A = Action.Key
    private static func column<View, Value>(_ key: FieldKey<View, Value>) -> String { MaterializedTables.column(key) }

    /// See ``Replica/sessions(in:from:to:status:facilitator:archived:)``.
    public static func sessions(
        _ db: Database, in space: SpaceID, from: Int64? = nil, to: Int64? = nil, status: SessionStatus? = nil,
        facilitator: EntityID? = nil, archived: Bool? = false
    ) throws -> [SessionSummary] {
        // Each filter is a constraint on one of the indexes (space_id, scheduled_at | status |
        // facilitator); the date index, which holds the primary key last, also gives the order.
        var sql = "SELECT \(sessionColumns) FROM sessions s WHERE s.space_id = ? AND s.deleted = 0"
        var arguments: StatementArguments = [space.blob]
        if let from {
            sql += " AND s.\(column(S.scheduledAt)) >= ?"
            arguments += [from]
        }
        if let to {
            sql += " AND s.\(column(S.scheduledAt)) < ?"
            arguments += [to]
        }
        if let status {
            sql += " AND s.\(column(S.status)) = ?"
            arguments += [status.rawValue]
        }
        if let facilitator {
            sql += " AND s.\(column(S.facilitator)) = ?"
            arguments += [facilitator.blob]
        }
        if let archived { sql += " AND s.\(column(S.archivedAt)) IS \(archived ? "NOT NULL" : "NULL")" }
        sql += " ORDER BY s.\(column(S.scheduledAt)), s.session_id"
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).compactMap(sessionSummary)
    }

    /// See ``Replica/session(_:)``.
    public static func session(_ db: Database, _ id: EntityID) throws -> SessionRecord? {
        let idBlob = id.blob
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT \(sessionColumns), s.\(column(S.summary)) FROM sessions s WHERE s.session_id = ? AND s.deleted = 0"),
                arguments: [idBlob]),
            let summary = sessionSummary(row)
        else { return nil }
        var fields = StoredFields(row)
        let participantValues = try DatabaseValue.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT p.member_id FROM session_participants p
                    WHERE p.session_id = ?
                        AND NOT EXISTS (SELECT 1 FROM members m WHERE m.member_id = p.member_id AND m.deleted = 1)
                    ORDER BY p.member_id
                    """),
            arguments: [idBlob])
        let participants = participantValues.compactMap(\.storedEntityID)
        if participants.count < participantValues.count { fields.noteInvalid(S.participants.name) }
        let agenda = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT a.position, a.prompt_id, p.text FROM agenda_items a
                    LEFT JOIN prompts p ON p.prompt_id = a.prompt_id
                    WHERE a.session_id = ? AND p.deleted IS NOT 1
                    ORDER BY a.position
                    """),
            arguments: [idBlob]
        ).compactMap { row -> AgendaEntry? in
            guard let prompt = entityID(row, "prompt_id"), let position = row.stored("position").storedInt64.flatMap(Int.init(exactly:))
            else {
                fields.noteInvalid(S.agenda.name)
                return nil
            }
            return AgendaEntry(position: position, promptID: prompt, promptText: row.stored("text").storedString)
        }
        let insights = try insightRecords(
            db, where: "i.session_id = ? AND i.deleted = 0", arguments: [idBlob], orderBy: "i.insight_id")
        let actions = try actionRecords(
            db,
            where: """
                (a.session_id = ?1
                    OR a.insight_id IN (SELECT insight_id FROM insights WHERE session_id = ?1 AND deleted = 0))
                """,
            arguments: [idBlob])
        let text = fields.text(S.summary)
        var session = summary
        if let invalid = fields.invalidFields { session.invalidFields = (session.invalidFields ?? []) + invalid }
        return SessionRecord(
            session: session, participants: participants, agenda: agenda, summary: text, insights: insights, actions: actions)
    }

    static func sessionSummary(_ row: Row) -> SessionSummary? {
        guard let id = entityID(row, "session_id"), let space = spaceID(row, "space_id") else { return nil }
        var fields = StoredFields(row)
        return SessionSummary(
            id: id, space: space, title: fields.read(S.title), scheduledAt: fields.read(S.scheduledAt)?.millisecondsSinceEpoch,
            hostSchool: fields.read(S.hostSchool), facilitator: fields.read(S.facilitator), focus: fields.read(S.focus),
            strategy: fields.read(S.strategy), status: fields.read(S.status), invalidFields: fields.invalidFields,
            archivedAt: fields.read(S.archivedAt)?.millisecondsSinceEpoch)
    }

    // MARK: Insights

    /// See ``Replica/insights(in:hallmark:)``.
    public static func insights(_ db: Database, in space: SpaceID, hallmark: Hallmark) throws -> [InsightRecord] {
        try insights(db, in: space, session: nil, author: nil, hallmark: hallmark)
    }

    /// See ``Replica/insights(in:session:author:hallmark:)``.
    public static func insights(
        _ db: Database, in space: SpaceID? = nil, session: EntityID? = nil, author: EntityID? = nil, hallmark: Hallmark? = nil
    ) throws -> [InsightRecord] {
        var condition = "i.deleted = 0"
        var arguments: StatementArguments = []
        if let space {
            condition += " AND i.space_id = ?"
            arguments += [space.blob]
        }
        if let session {
            condition += " AND i.\(column(I.session)) = ?"
            arguments += [session.blob]
        }
        if let author {
            condition += " AND i.\(column(I.author)) = ?"
            arguments += [author.blob]
        }
        if let hallmark {
            condition += " AND i.insight_id IN (SELECT insight_id FROM insight_hallmarks WHERE hallmark = ?)"
            arguments += [hallmark.rawValue]
        }
        return try insightRecords(db, where: condition, arguments: arguments)
    }

    /// See ``Replica/insights(answering:)``.
    public static func insights(_ db: Database, answering prompt: EntityID) throws -> [InsightRecord] {
        try insightRecords(db, where: "i.prompt_id = ? AND i.deleted = 0", arguments: [prompt.blob])
    }

    /// Insights matching a condition on `i` (insights), with their hallmarks, leaving out
    /// those whose session is deleted.
    static func insightRecords(
        _ db: Database, where condition: String, arguments: StatementArguments,
        orderBy order: String = "s.scheduled_at, i.session_id, i.insight_id"
    ) throws -> [InsightRecord] {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(MaterializedTables.registerColumns(of: .insight, alias: "i")), i.\(column(I.text))
                    FROM insights i LEFT JOIN sessions s ON s.session_id = i.session_id
                    WHERE \(condition) AND s.deleted IS NOT 1
                    ORDER BY \(order)
                    """),
            arguments: arguments)
        let hallmarks = try db.cachedStatement(sql: "SELECT hallmark FROM insight_hallmarks WHERE insight_id = ?")
        return try rows.compactMap { row throws -> InsightRecord? in
            guard let id = entityID(row, "insight_id"), let space = spaceID(row, "space_id") else { return nil }
            var fields = StoredFields(row)
            let stored = try DatabaseValue.fetchAll(hallmarks, arguments: [id.blob])
            let tags = stored.compactMap(\.storedString).sorted(by: hallmarkOrder)
            if tags.count < stored.count { fields.noteInvalid(I.hallmarks.name) }
            return InsightRecord(
                id: id, space: space, session: fields.read(I.session), prompt: fields.read(I.prompt), author: fields.read(I.author),
                kind: fields.read(I.kind), evidenceSource: fields.read(I.evidenceSource), influence: fields.read(I.influence),
                hallmarks: tags, text: fields.text(I.text), invalidFields: fields.invalidFields)
        }
    }

    /// Dean's order for known hallmarks, then unknown tags alphabetically.
    static func hallmarkOrder(_ lhs: String, _ rhs: String) -> Bool {
        let left = Hallmark(rawValue: lhs)?.ordinal ?? Hallmark.allCases.count
        let right = Hallmark(rawValue: rhs)?.ordinal ?? Hallmark.allCases.count
        return left != right ? left < right : lhs < rhs
    }

    // MARK: Actions

    /// See ``Replica/openActions(owner:in:)``.
    public static func openActions(_ db: Database, owner: EntityID? = nil, in space: SpaceID? = nil) throws -> [ActionRecord] {
        try actions(db, status: .open, owner: owner, in: space)
    }

    /// See ``Replica/actions(status:owner:in:)``.
    public static func actions(
        _ db: Database, status: ActionStatus? = nil, owner: EntityID? = nil, in space: SpaceID? = nil
    ) throws -> [ActionRecord] {
        var condition = "1"
        var arguments: StatementArguments = []
        if let status {
            condition += " AND a.\(column(A.status)) = ?"
            arguments += [status.rawValue]
        }
        if let owner {
            condition += " AND a.\(column(A.owner)) = ?"
            arguments += [owner.blob]
        }
        if let space {
            condition += " AND a.space_id = ?"
            arguments += [space.blob]
        }
        return try actionRecords(db, where: condition, arguments: arguments)
    }

    /// See ``Replica/overdueActions(asOf:owner:in:)``.
    public static func overdueActions(
        _ db: Database, asOf today: String, owner: EntityID? = nil, in space: SpaceID? = nil
    ) throws -> [ActionRecord] {
        guard ValueRule.isCalendarDate(today) else {
            throw ReplicaError.invalidValue("today must be a date as YYYY-MM-DD, got '\(today)'")
        }
        // Due dates are checked as YYYY-MM-DD (their rule), so text order is date order; one
        // stored before values were checked that is not shaped like a date is left out.
        let due = "a.\(column(A.dueDate))"
        var condition =
            "a.\(column(A.status)) = ? AND typeof(\(due)) = 'text' AND \(due) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND \(due) < ?"
        var arguments: StatementArguments = [ActionStatus.open.rawValue, today]
        if let owner {
            condition += " AND a.\(column(A.owner)) = ?"
            arguments += [owner.blob]
        }
        if let space {
            condition += " AND a.space_id = ?"
            arguments += [space.blob]
        }
        return try actionRecords(db, where: condition, arguments: arguments)
    }

    /// Live actions matching a condition on `a` (actions), leaving out those whose session
    /// is deleted, by due date (undated last), then identifier.
    static func actionRecords(_ db: Database, where condition: String, arguments: StatementArguments) throws -> [ActionRecord] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(MaterializedTables.registerColumns(of: .action, alias: "a"))
                    FROM actions a LEFT JOIN sessions s ON s.session_id = a.\(column(A.session))
                    WHERE \(condition) AND a.deleted = 0 AND s.deleted IS NOT 1
                    ORDER BY a.\(column(A.dueDate)) IS NULL, a.\(column(A.dueDate)), a.action_id
                    """),
            arguments: arguments
        ).compactMap { row -> ActionRecord? in
            guard let id = entityID(row, "action_id"), let space = spaceID(row, "space_id") else { return nil }
            var fields = StoredFields(row)
            return ActionRecord(
                id: id, space: space, description: fields.read(A.description), owner: fields.read(A.owner), dueDate: fields.read(A.dueDate),
                status: fields.read(A.status), insight: fields.read(A.insight), session: fields.read(A.session),
                invalidFields: fields.invalidFields)
        }
    }

    // MARK: Search

    /// See ``Replica/search(_:in:limit:)``.
    public static func search(_ db: Database, _ text: String, in space: SpaceID? = nil, limit: Int = 50) throws -> [SearchHit] {
        guard limit > 0, let expression = matchExpression(for: text) else { return [] }
        var sql = """
            SELECT e.entity_id, e.space_id, e.kind, s.title,
                snippet(search_index, -1, ?, ?, '…', 16) AS snippet
            FROM search_index
            JOIN search_entities e ON e.search_rowid = search_index.rowid
            LEFT JOIN insights i ON e.kind = '\(EntityKind.insight.rawValue)' AND i.insight_id = e.entity_id
            LEFT JOIN sessions s ON s.session_id = CASE e.kind WHEN '\(EntityKind.session.rawValue)' THEN e.entity_id ELSE i.session_id END
            WHERE search_index MATCH ? AND i.deleted IS NOT 1 AND s.deleted IS NOT 1
            """
        var arguments: StatementArguments = [SearchHit.highlightOpen, SearchHit.highlightClose, expression]
        if let space {
            sql += " AND e.space_id = ?"
            arguments += [space.blob]
        }
        sql += " ORDER BY search_index.rank, e.entity_id LIMIT ?"
        arguments += [limit]
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).compactMap { row -> SearchHit? in
            guard let id = entityID(row, "entity_id"), let space = spaceID(row, "space_id"),
                let kind = row.stored("kind").storedString.flatMap(EntityKind.init(rawValue:))
            else { return nil }
            var fields = StoredFields(row)
            return SearchHit(
                id: id, kind: kind, space: space, title: fields.read(S.title), snippet: row.stored("snippet").storedString ?? "")
        }
    }

    /// An FTS5 query that finds entries containing every word of `text` (each as a word or
    /// a word's prefix), or `nil` when `text` has no letters or digits.
    ///
    /// Each whitespace-separated term becomes an FTS5 string (double quotes, inner quotes
    /// doubled) followed by `*`: inside a string nothing is syntax, so user text can never
    /// make the query invalid; punctuation inside a term separates tokens of a phrase
    /// ("don't" matches "don" then "t"), as the tokenizer split the indexed text.
    static func matchExpression(for text: String) -> String? {
        let terms = text.split(whereSeparator: { $0.isWhitespace || $0.unicodeScalars.contains("\0") })
            .filter { term in
                term.unicodeScalars.contains { scalar in
                    switch scalar.properties.generalCategory {
                    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                        .decimalNumber, .letterNumber, .otherNumber, .privateUse:
                        true
                    default:
                        false
                    }
                }
            }
        guard !terms.isEmpty else { return nil }
        return terms.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }.joined(separator: " ")
    }

    // MARK: Conflicts

    /// See ``Replica/conflicts(in:entity:)``.
    public static func conflicts(_ db: Database, in space: SpaceID? = nil, entity: EntityID? = nil) throws -> [ConflictRecord] {
        var sql = """
            SELECT c.entity_id, c.field, c.replica, c.counter, c.space_id, c.kind, c.value_json, c.wall_time, c.logical, c.is_winner
            FROM field_conflicts c
            WHERE NOT \(hiddenEntity(kind: "c.kind", id: "c.entity_id"))
            """
        var arguments: StatementArguments = []
        if let space {
            sql += " AND c.space_id = ?"
            arguments += [space.blob]
        }
        if let entity {
            sql += " AND c.entity_id = ?"
            arguments += [entity.blob]
        }
        sql += " ORDER BY c.entity_id, c.field"
        let decoder = JSONDecoder()
        var records: [ConflictRecord] = []
        var current: (entity: EntityID, kind: EntityKind, space: SpaceID, field: String, winner: ConflictValue?, writes: [ConflictValue])?
        func flush() {
            guard let group = current else { return }
            current = nil
            var writes = group.writes
            // The winner is flagged; fall back on the register's own order if no row is.
            writes.sort { ($0.timestamp, $0.replica, $0.counter) > ($1.timestamp, $1.replica, $1.counter) }
            guard let winner = group.winner ?? writes.first else { return }
            writes.removeAll { $0.dot == winner.dot }
            guard !writes.isEmpty else { return }
            records.append(
                ConflictRecord(
                    entity: group.entity, entityKind: group.kind, space: group.space, field: group.field, winner: winner, losers: writes))
        }
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try rows.next() {
            // Rows whose bookkeeping cannot be read are left out; a value that cannot be read,
            // or that its field's rule refuses, is flagged invalid.
            guard let entity = entityID(row, "entity_id"), let space = spaceID(row, "space_id"),
                let kind = row.stored("kind").storedString.flatMap(EntityKind.init(rawValue:)),
                let replica = row.stored("replica").storedInt64.flatMap(ReplicaID.init(storedValue:)),
                let field = row.stored("field").storedString, let counter = row.stored("counter").storedInt64,
                let wallTime = row.stored("wall_time").storedInt64, let logical = row.stored("logical").storedInt64
            else { continue }
            let decoded = row.stored("value_json").storedString.flatMap { try? decoder.decode(FieldValue.self, from: Data($0.utf8)) }
            let invalid = decoded.map { kind.field(named: field)?.rule.accepts($0) == false } ?? true
            let value = ConflictValue(
                value: decoded ?? .null, replica: replica, counter: UInt64(bitPattern: counter),
                timestamp: HLCTimestamp(wallTime: UInt64(bitPattern: wallTime), logical: UInt16(clamping: logical)),
                invalid: invalid ? true : nil)
            if current?.entity != entity || current?.field != field {
                flush()
                current = (entity, kind, space, field, nil, [])
            }
            if row.stored("is_winner").storedInt64 == 1 {
                current!.winner = value
            }
            current!.writes.append(value)
        }
        flush()
        return records
    }

    /// SQL true when the entity `id` of kind `kind` (column expressions) is deleted, or is
    /// an insight or action whose session is deleted. Exhaustive over ``EntityKind``.
    static func hiddenEntity(kind: String, id: String) -> String {
        let cases = EntityKind.allCases.map { entityKind -> String in
            let test: String
            switch entityKind {
            case .partnership: test = "SELECT 1 FROM partnerships x WHERE x.partnership_id = \(id) AND x.deleted = 1"
            case .school: test = "SELECT 1 FROM schools x WHERE x.school_id = \(id) AND x.deleted = 1"
            case .member: test = "SELECT 1 FROM members x WHERE x.member_id = \(id) AND x.deleted = 1"
            case .space: test = "SELECT 1 FROM space_descriptions x WHERE x.description_id = \(id) AND x.deleted = 1"
            case .session: test = "SELECT 1 FROM sessions x WHERE x.session_id = \(id) AND x.deleted = 1"
            case .prompt: test = "SELECT 1 FROM prompts x WHERE x.prompt_id = \(id) AND x.deleted = 1"
            case .insight:
                test = """
                    SELECT 1 FROM insights x LEFT JOIN sessions y ON y.session_id = x.session_id
                    WHERE x.insight_id = \(id) AND (x.deleted = 1 OR y.deleted IS 1)
                    """
            case .action:
                test = """
                    SELECT 1 FROM actions x LEFT JOIN sessions y ON y.session_id = x.session_id
                    WHERE x.action_id = \(id) AND (x.deleted = 1 OR y.deleted IS 1)
                    """
            }
            return "WHEN '\(entityKind.rawValue)' THEN EXISTS (\(test))"
        }
        return "(CASE \(kind) \(cases.joined(separator: " ")) ELSE 0 END)"
    }

    // MARK: Row decoding

    static func entityID(_ row: Row, _ column: String) -> EntityID? {
        row.stored(column).storedEntityID
    }

    static func spaceID(_ row: Row, _ column: String) -> SpaceID? {
        row.stored(column).storedSpaceID
    }
}
