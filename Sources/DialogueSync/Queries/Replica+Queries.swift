import DialogueModel
import Foundation
import GRDB

// The read side: queries over the materialised tables (`MaterializedSchema`), run on the
// database pool's readers, concurrently with the replica's writes.
//
// What a query never returns: entities deleted (`deleted = 1`), and insights and actions
// whose session is deleted (deleting a session hides what was captured in it; the
// content stays recoverable in the change log, as every deletion's does).

extension Replica {
    // MARK: Sessions

    /// The live sessions of a space, by date (unscheduled ones first), then identifier.
    ///
    /// - Parameters:
    ///   - space: the space whose sessions are listed.
    ///   - from: when given, only sessions scheduled at or after this instant (ms since
    ///     the Unix epoch, UTC); unscheduled sessions are then left out.
    ///   - to: when given, only sessions scheduled strictly before this instant; with
    ///     `from`, a half-open range, so consecutive ranges never count a session twice.
    ///   - status: when given, only sessions with this status.
    ///   - facilitator: when given, only sessions this member facilitates.
    ///   - archived: `false` (the default): only sessions not archived
    ///     (``SpaceEditor/archive(_:)``); `true`: only archived ones; `nil`: both.
    public nonisolated func sessions(
        in space: SpaceID, from: Int64? = nil, to: Int64? = nil, status: SessionStatus? = nil, facilitator: EntityID? = nil,
        archived: Bool? = false
    ) throws(ReplicaError) -> [SessionSummary] {
        try readForQuery { db in
            try ReplicaQueries.sessions(db, in: space, from: from, to: to, status: status, facilitator: facilitator, archived: archived)
        }
    }

    /// A session's full record (agenda with prompt texts, participants, summary, insights,
    /// actions), or `nil` when this replica holds no live session with this identifier.
    public nonisolated func session(_ id: EntityID) throws(ReplicaError) -> SessionRecord? {
        try readForQuery { db in try ReplicaQueries.session(db, id) }
    }

    // MARK: Insights

    /// The live insights of a space tagged with a hallmark, by their session's date, then
    /// session, then identifier.
    public nonisolated func insights(in space: SpaceID, hallmark: Hallmark) throws(ReplicaError) -> [InsightRecord] {
        try readForQuery { db in try ReplicaQueries.insights(db, in: space, hallmark: hallmark) }
    }

    /// The live insights, in every space held or one, by their session's date, then
    /// session, then identifier; each filter given narrows the list (all combine).
    ///
    /// - Parameters:
    ///   - space: when given, only insights held in this space.
    ///   - session: when given, only insights captured in this session.
    ///   - author: when given, only insights this member wrote.
    ///   - hallmark: when given, only insights tagged with this hallmark.
    public nonisolated func insights(
        in space: SpaceID? = nil, session: EntityID? = nil, author: EntityID? = nil, hallmark: Hallmark? = nil
    ) throws(ReplicaError) -> [InsightRecord] {
        try readForQuery { db in try ReplicaQueries.insights(db, in: space, session: session, author: author, hallmark: hallmark) }
    }

    /// The live insights that answer a prompt, in any space this replica holds, by their
    /// session's date, then session, then identifier.
    public nonisolated func insights(answering prompt: EntityID) throws(ReplicaError) -> [InsightRecord] {
        try readForQuery { db in try ReplicaQueries.insights(db, answering: prompt) }
    }

    // MARK: Actions

    /// The open actions, by due date (undated last), then identifier.
    ///
    /// - Parameters:
    ///   - owner: when given, only this member's actions.
    ///   - space: when given, only actions held in this space.
    public nonisolated func openActions(owner: EntityID? = nil, in space: SpaceID? = nil) throws(ReplicaError) -> [ActionRecord] {
        try readForQuery { db in try ReplicaQueries.openActions(db, owner: owner, in: space) }
    }

    /// The actions of every status, or of one, by due date (undated last), then identifier.
    ///
    /// - Parameters:
    ///   - status: when given, only actions with this status (``openActions(owner:in:)``
    ///     is the same with `ActionStatus.open`).
    ///   - owner: when given, only this member's actions.
    ///   - space: when given, only actions held in this space.
    public nonisolated func actions(
        status: ActionStatus? = nil, owner: EntityID? = nil, in space: SpaceID? = nil
    ) throws(ReplicaError) -> [ActionRecord] {
        try readForQuery { db in try ReplicaQueries.actions(db, status: status, owner: owner, in: space) }
    }

    /// The open actions due before `today`, most overdue first.
    ///
    /// - Parameters:
    ///   - today: the calendar date "YYYY-MM-DD" in the user's time zone; an action due
    ///     today is not overdue. Anything else throws ``ReplicaError/invalidValue(_:)``.
    ///   - owner: when given, only this member's actions.
    ///   - space: when given, only actions held in this space.
    public nonisolated func overdueActions(
        asOf today: String, owner: EntityID? = nil, in space: SpaceID? = nil
    ) throws(ReplicaError) -> [ActionRecord] {
        try readForQuery { db in try ReplicaQueries.overdueActions(db, asOf: today, owner: owner, in: space) }
    }

    // MARK: Search

    /// Full-text search of what the materialiser indexes: session summaries and insight
    /// texts (a hit's ``SearchHit/title`` is its session's title).
    ///
    /// Every word of `text` must occur, as a word or the start of one ("assess" finds
    /// "assessment"), case- and diacritic-insensitively ("eleve" finds "élève"). Any text
    /// is accepted: quotes, operators and punctuation are matched literally, never parsed
    /// as query syntax. Text with no letters or digits finds nothing. Best matches first.
    ///
    /// - Parameters:
    ///   - text: the words searched for.
    ///   - space: when given, only entities held in this space.
    ///   - limit: the most hits returned.
    public nonisolated func search(_ text: String, in space: SpaceID? = nil, limit: Int = 50) throws(ReplicaError) -> [SearchHit] {
        try readForQuery { db in try ReplicaQueries.search(db, text, in: space, limit: limit) }
    }

    // MARK: Conflicts

    /// The register fields that have concurrent writes, each with the winning value and
    /// the values that lost, by entity then field.
    ///
    /// - Parameters:
    ///   - space: when given, only entities held in this space.
    ///   - entity: when given, only this entity's fields.
    public nonisolated func conflicts(in space: SpaceID? = nil, entity: EntityID? = nil) throws(ReplicaError) -> [ConflictRecord] {
        try readForQuery { db in try ReplicaQueries.conflicts(db, in: space, entity: entity) }
    }

    // MARK: Observation

    /// Observes any value read from the database: the sequence yields the current value
    /// at once, then a fresh one after each committed write that touches the tables the
    /// fetch read or adds to the change log (so after every edit and every merge that
    /// applied something; the value may then be unchanged). Combine it with
    /// ``ReplicaQueries``:
    ///
    /// ```swift
    /// for try await actions in replica.observe({ db in try ReplicaQueries.openActions(db, owner: me) }) {
    ///     show(actions)
    /// }
    /// ```
    ///
    /// Values are fetched off the actor, concurrently with writes; the sequence ends when
    /// the iterating task is cancelled, and throws if a fetch fails.
    public nonisolated func observe<T: Sendable>(_ fetch: @escaping @Sendable (Database) throws -> T) -> AsyncValueObservation<T> {
        Self.observation(fetch).values(in: database)
    }

    /// Observes ``sessions(in:from:to:status:facilitator:archived:)``: the current list at
    /// once, then a fresh one each time it changes.
    public nonisolated func observeSessions(
        in space: SpaceID, from: Int64? = nil, to: Int64? = nil, status: SessionStatus? = nil, facilitator: EntityID? = nil,
        archived: Bool? = false
    ) -> AsyncValueObservation<[SessionSummary]> {
        Self.observation { db in
            try ReplicaQueries.sessions(db, in: space, from: from, to: to, status: status, facilitator: facilitator, archived: archived)
        }
        .removeDuplicates()
        .values(in: database)
    }

    /// Observes ``session(_:)``: the current record at once, then a fresh one each time it
    /// changes (`nil` while the session is not held or is deleted).
    public nonisolated func observeSession(_ id: EntityID) -> AsyncValueObservation<SessionRecord?> {
        Self.observation { db in try ReplicaQueries.session(db, id) }
            .removeDuplicates()
            .values(in: database)
    }

    /// A `ValueObservation` of `fetch` that also tracks the change log.
    ///
    /// The materialised tables are `WITHOUT ROWID`, and SQLite's update hook does not
    /// report changes to such tables, so GRDB cannot see writes to them unless the writer
    /// calls `Database.notifyChanges(in:)`. Every write that changes the materialised
    /// state appends to `change_blocks` (a rowid table) in the same transaction, so
    /// tracking it too makes the observation see every such write.
    nonisolated static func observation<T: Sendable>(
        _ fetch: @escaping @Sendable (Database) throws -> T
    ) -> ValueObservation<ValueReducers.Fetch<T>> {
        ValueObservation.tracking { db in
            try db.registerAccess(to: Table("change_blocks"))
            return try fetch(db)
        }
    }

    /// Runs a read on the pool, mapping database failures to ``ReplicaError/storage(_:underlying:)``.
    nonisolated func readForQuery<T>(_ body: (Database) throws -> T) throws(ReplicaError) -> T {
        do {
            return try database.read { db in try body(db) }
        } catch let error as ReplicaError {
            throw error
        } catch {
            throw .storage("\(error)", underlying: error)
        }
    }
}
