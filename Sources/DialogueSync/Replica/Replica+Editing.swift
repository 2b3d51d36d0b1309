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
    /// changes and one `ChainHead` at its last counter (and one per 1,000 changes before
    /// it, in a larger transaction), signed with the device key, is stored with them
    /// (docs/TRUST.md, "Signing").
    ///
    /// ```swift
    /// let session = try await replica.edit(in: space) { editor in
    ///     try editor.createSession(title: "Feedback that moves learning on")
    /// }
    /// ```
    public func edit<T: Sendable>(in space: SpaceID, _ body: @Sendable (inout SpaceEditor) throws -> T) throws -> T {
        try editStoring(in: space, body).value
    }

    /// ``edit(in:_:)``, saying how many stored changes an erasure among the edits stripped.
    func editStoring<T: Sendable>(
        in space: SpaceID, _ body: @Sendable (inout SpaceEditor) throws -> T
    ) throws -> (value: T, stripped: Int) {
        // The document moves into the editor so it is edited in place, not copied; it comes
        // back when the edit is stored, or is rebuilt from the log if a partial edit fails.
        guard held.contains(space) else { throw ReplicaError.unknownSpace(space) }
        try prepareToWrite()
        guard let document = try loadedDocument(space) else { throw ReplicaError.unknownSpace(space) }
        documents[space] = nil  // the editor's copy is the only one while it changes
        // `consume`: a second reference kept to the end of the scope would make the first
        // edit copy the document's tables (and the scope's end free the old ones).
        var editor = SpaceEditor(
            space: space, document: consume document, clock: clock, replica: id, makeEntityID: makeEntityID,
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
            return (result, 0)
        }
        let changes = editor.changes
        var materializer = Materializer(space: space, after: editor.document, conflicted: conflictedRegisters)
        var chain = ownChains[space]
        // A transaction of many changes is signed on another core while its rows are written.
        let signing = chain.flatMap {
            changes.count >= Self.changesSignedAside ? TransactionSigning(changes, from: $0, key: deviceKey) : nil
        }
        // An erasure rewrites the space's storage in the same transaction (ErasureRewrite).
        let erasing = ErasureRewrite.holdsErasure(changes)
        let erasingFrom = erasing ? editor.document : nil
        var rebuilt: SpaceDocument?
        var stripped = 0
        do {
            // The clock is not stored: every timestamp it issued is in the changes stored
            // here, and opening the replica takes the clock from them (one page less per edit).
            try write { db in
                if erasing { try SecureErase.begin(db) }
                defer { if erasing { SecureErase.end(db) } }
                try Self.appendBlock(changes, space: space, db)
                try Self.storeVector(of: changes, space: space, db)
                var touches = Materializer.touches(of: changes)
                if let erasingFrom {
                    let rewrite = try ErasureRewrite.apply(erasingFrom, db)
                    rebuilt = rewrite.document
                    stripped = rewrite.stripped
                    materializer = Materializer(space: space, after: rewrite.document, conflicted: conflictedRegisters)
                    for (entity, touch) in rewrite.touches { touches[entity, default: .init()].formUnion(touch) }
                }
                try materializer.refresh(touches, in: db)
                chain = try self.sign(changes, in: space, from: chain, signing, db)
                if erasing { try SecureErase.mergeSearchIndex(db) }
            }
        } catch {
            restore(space, nil)
            throw error
        }
        if let rebuilt {
            documents[space] = rebuilt
            truncateWALAfterErasure()
        } else {
            documents[space] = editor.document
        }
        conflictedRegisters = materializer.conflicted
        clock = editor.clock
        ownChains[space] = chain
        return (result, stripped)
    }

    /// Advances this device's chain in `space` (`chain`, or where the database says it
    /// stands) over a local transaction's changes (or takes `signing`'s result, the same
    /// work done on another core), stores the signed heads and the new position, and
    /// returns the chain.
    private nonisolated func sign(
        _ changes: [Change], in space: SpaceID, from chain: DeviceChain?, _ signing: TransactionSigning?, _ db: Database
    ) throws -> DeviceChain {
        let signed: Result<TransactionSigning.Signed, TrustError>
        if let signing {
            signed = signing.result()
        } else {
            let held = try chain ?? ChainStore.held(of: id, in: space, upTo: changes[0].id.counter &- 1, db)
            signed = Result { () throws(TrustError) in try TransactionSigning.sign(changes, from: held, key: deviceKey) }
        }
        switch signed {
        case .success(let signed):
            try ChainStore.store(signed.heads, db)
            try ChainStore.store(signed.chain, db)
            return signed.chain
        case .failure(let error):
            throw ReplicaError.storage(
                "cannot sign the edit: this device's chain in space \(space) does not continue: \(error)", underlying: error)
        }
    }

    /// The most changes of one transaction a single head covers (one signature per this
    /// many changes at most, so a page runs over its limit by less than this).
    static let changesPerHead = 1000

    /// From this many changes, a transaction is signed on another core while its rows are
    /// written. Not for ordinary edits: at 32, clustered edits in transactions of 100 ran
    /// at 217-230k edits/s against 303-317k signed inline (three alternating pairs, quiet
    /// machine, docs/PERFORMANCE.md): the hand-over cost more than the overlap saved. Left
    /// for very large transactions (an import), where it is not measured to lose.
    static let changesSignedAside = 5_000

    /// Puts a space's document back after a failed write: the given one when it is known
    /// to be unchanged, otherwise none (it is built again from what the database holds at
    /// its next use, ``loadedDocument(_:)``).
    func restore(_ space: SpaceID, _ unchanged: SpaceDocument?) {
        documents[space] = unchanged
    }
}
