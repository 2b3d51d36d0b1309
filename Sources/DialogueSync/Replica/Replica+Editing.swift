import DialogueModel
import GRDB
import Logging

extension Replica {
    /// Makes local edits to a space in one transaction.
    ///
    /// The closure's operations apply to the pure state as they are called; when it
    /// returns, their changes, the version vector and the materialised rows they touch
    /// are written in one SQLite transaction. If the closure throws, or the write fails,
    /// nothing is stored and the replica's state is as before.
    ///
    /// The transaction is signed: the device's hash chain in the space advances over its
    /// changes and one ``ChainHead`` at its last counter (and one per 1,000 changes before
    /// it, in a larger transaction), signed with the device key, is stored with them
    /// (docs/TRUST.md, "Signing").
    ///
    /// ```swift
    /// let session = try await replica.edit(in: space) { editor in
    ///     try editor.createSession(title: "Feedback that moves learning on")
    /// }
    /// ```
    public func edit<T: Sendable>(in space: SpaceID, _ body: @Sendable (inout SpaceEditor) throws -> T) throws -> T {
        // The document moves into the editor so it is edited in place, not copied; it comes
        // back when the edit is stored, or is rebuilt from the log if a partial edit fails.
        guard let document = documents.removeValue(forKey: space) else { throw ReplicaError.unknownSpace(space) }
        // `consume`: a second reference kept to the end of the scope would make the first
        // edit copy the document's tables (and the scope's end free the old ones).
        var editor = SpaceEditor(space: space, document: consume document, clock: clock, replica: id, makeEntityID: makeEntityID,
            certifiedMember: certifiedMember)
        let result: T
        do {
            result = try body(&editor)
        } catch {
            restore(space, editor.changes.isEmpty ? editor.document : nil)
            throw error
        }
        guard !editor.changes.isEmpty else {
            documents[space] = editor.document
            return result
        }
        let changes = editor.changes
        var materializer = Materializer(space: space, after: editor.document, conflicted: conflictedRegisters)
        var chain = ownChains[space]
        do {
            // The clock is not stored: every timestamp it issued is in the changes stored
            // here, and opening the replica takes the clock from them (one page less per edit).
            try write { db in
                try Self.appendBlock(changes, space: space, db)
                try Self.storeVector(of: changes, space: space, db)
                chain = try self.sign(changes, in: space, from: chain, db)
                try materializer.refresh(Materializer.touches(of: changes), in: db)
            }
        } catch {
            restore(space, nil)
            throw error
        }
        documents[space] = editor.document
        conflictedRegisters = materializer.conflicted
        clock = editor.clock
        ownChains[space] = chain
        return result
    }

    /// Advances this device's chain in `space` (`chain`, or where the database says it
    /// stands) over a local transaction's changes, stores the signed head and the new
    /// position, and returns the chain.
    private nonisolated func sign(_ changes: [Change], in space: SpaceID, from chain: DeviceChain?, _ db: Database) throws -> DeviceChain {
        var chain = try chain ?? ChainStore.held(of: id, in: space, upTo: changes[0].id.counter &- 1, db)
        var heads: [ChainHead] = []
        var start = changes.startIndex
        while start < changes.endIndex {
            // A very large transaction gets a head every `changesPerHead` changes, so pages
            // (cut at heads) and requests stay bounded; a usual one gets one, at its end.
            let end = min(start + Self.changesPerHead, changes.endIndex)
            do { try chain.advance(over: changes[start..<end]) } catch {
                throw ReplicaError.storage("cannot sign the edit: this device's chain in space \(space) does not continue: \(error)")
            }
            heads.append(chain.head(signedBy: deviceKey))
            start = end
        }
        try ChainStore.store(heads, db)
        try ChainStore.store(chain, db)
        return chain
    }

    /// The most changes of one transaction a single head covers (one signature per this
    /// many changes at most, so a page runs over its limit by less than this).
    static let changesPerHead = 1000

    /// Puts a space's document back after a failed write: the given one when it is known
    /// to be unchanged, otherwise rebuilt from what the database holds.
    func restore(_ space: SpaceID, _ unchanged: SpaceDocument?) {
        if let unchanged {
            documents[space] = unchanged
            return
        }
        do {
            documents[space] = try database.read { db in try Self.loadDocument(space, db) }
        } catch {
            logger.error(
                "cannot rebuild space after a failed write; it reloads when the replica reopens",
                metadata: ["space.id": "\(space)", "error": "\(error)"])
        }
    }
}
