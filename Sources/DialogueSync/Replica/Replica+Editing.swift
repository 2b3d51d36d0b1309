import DialogueModel
import GRDB

extension Replica {
    /// Makes local edits to a space in one transaction.
    ///
    /// The closure's operations apply to the pure state as they are called; when it
    /// returns, their changes, the version vector and the materialised rows they touch
    /// are written in one SQLite transaction. If the closure throws, or the write fails,
    /// nothing is stored and the replica's state is as before.
    ///
    /// ```swift
    /// let session = try await replica.edit(in: space) { editor in
    ///     try editor.createSession(title: "Feedback that moves learning on")
    /// }
    /// ```
    public func edit<T: Sendable>(in space: SpaceID, _ body: @Sendable (inout SpaceEditor) throws -> T) throws -> T {
        guard let before = documents[space] else { throw ReplicaError.unknownSpace(space) }
        var editor = SpaceEditor(space: space, document: before, clock: clock, replica: id, makeEntityID: makeEntityID)
        let result = try body(&editor)
        guard !editor.changes.isEmpty else { return result }
        let changes = editor.changes
        let after = editor.document
        let timestamp = editor.clock.last
        try write { db in
            try Self.appendBlock(changes, space: space, db)
            try Self.storeVector(of: changes, space: space, db)
            try Self.storeClock(timestamp, db)
            try Materializer(space: space, before: before, after: after).refresh(Materializer.touches(of: changes), in: db)
        }
        documents[space] = after
        clock = editor.clock
        return result
    }
}
