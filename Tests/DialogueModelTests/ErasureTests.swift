import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueModel

/// Erasure in the pure core (issue 13 item 1): which changes an erasure erases, that a
/// stripped change keeps its place in its author's chain, and that nobody can pass off
/// words under an erased change's kept hash.
@Suite("Erasure")
struct ErasureTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000000e1")!)
    let note = EntityID(UUID(uuidString: "00000000-0000-4000-8000-0000000000a1")!)
    let ada = ReplicaID(rawValue: 0xADA)!
    let ben = ReplicaID(rawValue: 0xBE7)!
    let admin = ReplicaID(rawValue: 0xAD7)!

    func at(_ replica: ReplicaID, _ wall: UInt64) -> EditContext { EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: wall)) }

    /// A document rebuilt from its own journal after an erasure, as a store does.
    func rebuild(_ document: SpaceDocument) throws -> SpaceDocument {
        var document = document
        let log = document.strippingErased(document.journal ?? []).changes
        var fresh = try document.rebuilt(from: log)
        fresh.startJournal(omittingVerbatimHead: false)
        fresh.journal = log
        return fresh
    }

    func journaled() -> SpaceDocument {
        var document = SpaceDocument(space: space)
        document.startJournal(omittingVerbatimHead: false)
        return document
    }

    @Test("a stripped change keeps its digest and content hash, and holds none of its words")
    func strippedChangeKeepsDigest() throws {
        var document = SpaceDocument(space: space)
        let created = document.create(note, kind: EntityKind.insight.rawValue, by: at(ada, 1))
        let typed = try document.editText("text", of: note, at: 0, insert: "Pupil X disclosed", by: at(ada, 2))
        let set = document.set("title", of: note, to: .string("Secret title"), by: at(ada, 3))
        for change in typed + [set] {
            let stripped = change.erasingContent()
            #expect(stripped.isContentErased)
            #expect(stripped.digest == change.digest)
            #expect(stripped.contentHash == change.contentHash)
            #expect(stripped.counterSpan == change.counterSpan)
            #expect(stripped.shapeProblem == nil)
            let bytes = ChangeCodec.encode([stripped])
            #expect(!String(decoding: bytes, as: UTF8.self).contains("disclosed"))
            #expect(!String(decoding: bytes, as: UTF8.self).contains("Secret"))
            #expect(try ChangeCodec.decode(bytes) == [stripped])
            let json = try JSONEncoder().encode(stripped)
            #expect(!String(decoding: json, as: UTF8.self).contains("disclosed"))
            #expect(try JSONDecoder().decode(Change.self, from: json) == stripped)
        }
        #expect(created.erasingContent() == created, "a creation carries no content")
    }

    @Test("words passed off under a kept hash are malformed (binary and JSON)")
    func forgedStrippedChangeIsMalformed() throws {
        var document = SpaceDocument(space: space)
        _ = document.create(note, kind: EntityKind.insight.rawValue, by: at(ada, 1))
        let typed = try document.editText("text", of: note, at: 0, insert: "honest", by: at(ada, 2))[0]
        var forged = typed.erasingContent()
        forged.replaceOperation(.insertText(originLeft: nil, originRight: nil, text: "forged"), span: 6)
        #expect(forged.digest == typed.digest, "the chain alone would not notice")
        #expect(forged.shapeProblem != nil)
        // The binary form of an erased insertion holds only its length: it cannot carry words.
        #expect(try ChangeCodec.decode(ChangeCodec.encode([forged])).first?.operation == typed.erasingContent().operation)
        var receiver = SpaceDocument(space: space)
        #expect(throws: ChangeError.self) { try receiver.apply(try JSONDecoder().decode(Change.self, from: JSONEncoder().encode(forged))) }

        let set = document.set("title", of: note, to: .string("honest"), by: at(ada, 3))
        var forgedValue = set.erasingContent()
        forgedValue.replaceOperation(.set(.string("forged"), predecessors: []), span: 1)
        #expect(forgedValue.shapeProblem != nil)
        #expect(throws: CodecError.self) { try ChangeCodec.decode(ChangeCodec.encode([forgedValue])) }
    }

    @Test("an erasure must be written on its entity with no field name, naming sorted devices")
    func erasureShape() {
        let good = Change(
            id: Dot(admin, 1), timestamp: HLCTimestamp(wallTime: 1), space: space, entity: note, field: "",
            operation: .erase(Erasure(target: .entity(note))))
        #expect(good.shapeProblem == nil)
        var wrongEntity = good
        wrongEntity.entity = EntityID(UUID())
        #expect(wrongEntity.shapeProblem != nil)
        var withField = good
        withField.field = "text"
        #expect(withField.shapeProblem != nil)
        let contributions = Change(
            id: Dot(admin, 1), timestamp: HLCTimestamp(wallTime: 1), space: space,
            entity: Erasure(target: .contributions(member: UUID(), replicas: [ada])).entity, field: "",
            operation: .erase(Erasure(target: .contributions(member: UUID(), replicas: [ben, ada]))))
        #expect(contributions.shapeProblem == nil, "the initialiser sorts")
        var raw = contributions
        raw.replaceOperation(.erase(rawErasure(.contributions(member: UUID(), replicas: [ben, ada]))), span: 1)
        #expect(raw.shapeProblem != nil, "unsorted devices")
        raw.replaceOperation(.erase(rawErasure(.contributions(member: UUID(), replicas: []))), span: 1)
        #expect(raw.shapeProblem != nil, "no devices")
    }

    /// An erasure whose target is taken as given (not sorted by the initialiser).
    func rawErasure(_ target: Erasure.Target) -> Erasure {
        var erasure = Erasure(target: .entity(note))
        erasure.target = target
        return erasure
    }

    @Test("an entity's erasure erases every edit to it: seen, concurrent and later; the entity is gone")
    func entityErasure() throws {
        var adas = journaled()
        var bens = journaled()
        let created = adas.create(note, kind: EntityKind.insight.rawValue, by: at(ada, 1))
        let seen = try adas.editText("text", of: note, at: 0, insert: "Seen words", by: at(ada, 2))
        try bens.apply([created] + seen)
        // Ben, offline, keeps typing; the admin erases what Ada wrote meanwhile.
        let concurrent = try bens.editText("text", of: note, at: 10, insert: " Offline words", by: at(ben, 3))
        var admins = journaled()
        try admins.apply([created] + seen)
        let erasure = admins.erase(Erasure(target: .entity(note)), by: at(admin, 4))
        admins = try rebuild(admins)
        #expect(admins.isDeleted(note))
        #expect(!admins.canonicalExportText().contains("Seen"))

        try admins.apply(concurrent)  // the stale device's upload arrives after the erasure
        #expect(admins.journal?.last?.isContentErased == true, "stored stripped, never as received")
        #expect(!admins.canonicalExportText().contains("Offline"))

        try bens.apply(erasure)
        bens = try rebuild(bens)
        #expect(bens.canonicalExportText() == admins.canonicalExportText())
        #expect(!bens.canonicalExportText().contains("Offline"))
        #expect(bens.liveKind(of: note) == nil)
    }

    @Test("a field's erasure erases what was seen and what was concurrent, and keeps words written after it")
    func fieldErasure() throws {
        var adas = journaled()
        let created = adas.create(note, kind: EntityKind.insight.rawValue, by: at(ada, 1))
        let old = try adas.editText("text", of: note, at: 0, insert: "Inaccurate", by: at(ada, 2))
        let title = adas.set("title", of: note, to: .string("Kept title"), by: at(ada, 3))
        var bens = journaled()
        try bens.apply([created] + old + [title])
        let concurrent = try bens.editText("text", of: note, at: 10, insert: " and more", by: at(ben, 4))
        var admins = journaled()
        try admins.apply([created] + old + [title])
        let erasure = admins.erase(Erasure(target: .field(note, "text")), by: at(admin, 5))
        admins = try rebuild(admins)
        #expect(admins.text("text", of: note) == "")
        #expect(admins.value("title", of: note) == .string("Kept title"), "other fields stay")

        // Ada applies the erasure, then writes the accurate version: new words, kept.
        try adas.apply(erasure)
        adas = try rebuild(adas)
        let rewritten = try adas.editText("text", of: note, at: 0, insert: "Accurate", by: at(ada, 6))
        try admins.apply(concurrent + rewritten)
        try adas.apply(concurrent)
        try bens.apply([erasure] + rewritten)
        bens = try rebuild(bens)
        for document in [admins, adas, bens] {
            #expect(document.text("text", of: note) == "Accurate")
            #expect(!document.canonicalExportText().contains("Inaccurate"))
            #expect(!document.canonicalExportText().contains("more"))
        }
        #expect(admins.canonicalExportText() == adas.canonicalExportText())
        #expect(admins.canonicalExportText() == bens.canonicalExportText())
    }

    @Test("a member's contributions are erased in every entity; others' words and later ones stay")
    func contributionsErasure() throws {
        var shared = journaled()
        let other = EntityID(UUID(uuidString: "00000000-0000-4000-8000-0000000000a2")!)
        var changes = [shared.create(note, kind: EntityKind.insight.rawValue, by: at(ada, 1))]
        changes += try shared.editText("text", of: note, at: 0, insert: "Ada's words", by: at(ada, 2))
        changes += [shared.create(other, kind: EntityKind.insight.rawValue, by: at(ben, 3))]
        changes += try shared.editText("text", of: other, at: 0, insert: "Ben's words", by: at(ben, 4))
        changes += try shared.editText("text", of: note, at: 11, insert: " Ben adds", by: at(ben, 5))
        changes += [shared.set("title", of: other, to: .string("Ben's title"), by: at(ben, 6))]
        var admins = journaled()
        try admins.apply(changes)
        let erasure = admins.erase(Erasure(target: .contributions(member: UUID(), replicas: [ben])), by: at(admin, 7))
        admins = try rebuild(admins)
        #expect(admins.text("text", of: note) == "Ada's words")
        #expect(admins.text("text", of: other) == "")
        #expect(admins.value("title", of: other) == .null)
        #expect(!admins.canonicalExportText().contains("Ben"))
        // Ben, having applied the erasure, writes again: that stays.
        var bens = journaled()
        try bens.apply(changes + [erasure])
        bens = try rebuild(bens)
        let later = try bens.editText("text", of: other, at: 0, insert: "New", by: at(ben, 8))
        try admins.apply(later)
        #expect(admins.text("text", of: other) == "New")
        #expect(admins.canonicalExportText() == bens.canonicalExportText())
    }

    @Test("an insertion anchored on erased characters still lands, after them")
    func anchoredOnErasedText() throws {
        var adas = journaled()
        var changes = [adas.create(note, kind: EntityKind.insight.rawValue, by: at(ada, 1))]
        changes += try adas.editText("text", of: note, at: 0, insert: "secret", by: at(ada, 2))
        var bens = journaled()
        try bens.apply(changes)
        // Ben anchors on the erased characters before hearing of the erasure.
        let anchored =
            try bens.editText("title", of: note, at: 0, insert: "x", by: at(ben, 3))
            + (try bens.editText("text", of: note, at: 3, insert: "|", by: at(ben, 3)))
        let erasure = adas.erase(Erasure(target: .contributions(member: UUID(), replicas: [ada])), by: at(admin, 4))
        adas = try rebuild(adas)
        try adas.apply(anchored)
        #expect(adas.text("text", of: note) == "|")
        #expect(adas.quarantined.isEmpty)
        try bens.apply(erasure)
        bens = try rebuild(bens)
        #expect(bens.canonicalExportText() == adas.canonicalExportText())
    }

    @Test("a waiting change an erasure may cover is not kept with its words; it comes again and converges")
    func waitingChangesSettle() throws {
        let carol = ReplicaID(rawValue: 0xCA7)!
        var adas = journaled()
        let created = adas.create(note, kind: EntityKind.insight.rawValue, by: at(ada, 1))
        let seen = try adas.editText("text", of: note, at: 0, insert: "Seen", by: at(ada, 2))
        let more = try adas.editText("text", of: note, at: 4, insert: " more", by: at(ada, 3))
        // Ben has all of Ada's and types, concurrently with the erasure below.
        var bens = journaled()
        try bens.apply([created] + seen + more)
        let concurrent = try bens.editText("text", of: note, at: 9, insert: " Concurrent words", by: at(ben, 4))
        // The admin has only the first words when erasing the field's history.
        var admins = journaled()
        try admins.apply([created] + seen)
        let erasure = admins.erase(Erasure(target: .field(note, "text")), by: at(admin, 5))
        admins = try rebuild(admins)
        // Carol has everything, the erasure included, then writes: after it, kept.
        var carols = journaled()
        try carols.apply([created] + seen + more + [erasure])
        carols = try rebuild(carols)
        let after = try carols.editText("text", of: note, at: 0, insert: "After words", by: at(carol, 6))

        // Both arrive at the admin before Ada's " more", on which they depend: they wait.
        try admins.apply(concurrent + after)
        #expect(admins.pendingCount == concurrent.count + after.count)
        let settled = admins.settleWaiting()
        #expect(settled.stripped == 0)
        #expect(settled.dropped == concurrent.map(\.id), "may be covered: its past held does not show the erasure")
        #expect(admins.pendingChanges == after, "known to follow the erasure (it names it): kept, words and all")
        #expect(!admins.pendingChanges.contains { String(decoding: ChangeCodec.encode([$0]), as: UTF8.self).contains("Concurrent") })

        // What was dropped is not held, so it comes again with the rest: judged exactly then.
        try admins.apply(more + concurrent)
        #expect(admins.pendingCount == 0)
        admins = try rebuild(admins)
        try bens.apply([erasure] + after)
        bens = try rebuild(bens)
        try carols.apply(concurrent)
        for document in [admins, bens, carols] {
            #expect(document.text("text", of: note) == "After words")
            #expect(!document.canonicalExportText().contains("Concurrent"))
        }
        #expect(admins.canonicalExportText() == bens.canonicalExportText())
        #expect(admins.canonicalExportText() == carols.canonicalExportText())

        // A waiting change to an erased entity waits stripped: an entity's erasure covers everything.
        var receiver = journaled()
        try receiver.apply([created] + seen)
        _ = receiver.erase(Erasure(target: .entity(note)), by: at(admin, 7))
        try receiver.apply(concurrent)
        #expect(receiver.settleWaiting().stripped == concurrent.count)
        #expect(receiver.pendingChanges.allSatisfy { $0.isContentErased })
    }

    @Test("random edits with erasures, delivered in any order, converge with no erased content left", arguments: 0..<150)
    func erasuresConverge(seed: UInt64) throws {
        var simulation = ConvergenceSimulation(seed: seed)
        simulation.erasures = true
        try simulation.run()
        let exports = simulation.documents.map { $0.canonicalExportText() }
        for (index, export) in exports.enumerated().dropFirst() where export != exports[0] {
            Issue.record("seed \(seed): replica \(index) differs\n--- 0\n\(exports[0])--- \(index)\n\(export)")
        }
        for document in simulation.documents { #expect(document.quarantined.isEmpty, "seed \(seed)") }
        // Every change as originally written, in one shuffled pass, then rebuilt: the same.
        var fresh = SpaceDocument(space: simulation.space)
        fresh.startJournal(omittingVerbatimHead: false)
        var random = SplitMix64(seed: seed ^ 0xE7A5E)
        try fresh.apply(simulation.allChanges.values.shuffled(using: &random))
        fresh = try rebuild(fresh)
        #expect(fresh.canonicalExportText() == exports[0], "seed \(seed): a fresh replica differs")
        // And no erased content survives: every change stripped beforehand by the final
        // erasures (so the content cannot be there), applied in another order without any
        // rebuild, gives the same state.
        let stripped = simulation.allChanges.values.map { fresh.erases($0) ? $0.erasingContent() : $0 }
        var clean = SpaceDocument(space: simulation.space)
        try clean.apply(stripped.shuffled(using: &random))
        #expect(clean.canonicalExportText() == exports[0], "seed \(seed): erased content survived somewhere")
    }

    @Test("a stripped insertion claiming more characters than any batch may hold is refused, not allocated")
    func erasedLengthBudget() throws {
        var document = SpaceDocument(space: space)
        _ = document.create(note, kind: EntityKind.insight.rawValue, by: at(ada, 1))
        let typed = try document.editText("text", of: note, at: 0, insert: "ab", by: at(ada, 2))[0].erasingContent()
        var oversized = typed
        oversized.replaceOperation(
            .insertText(originLeft: nil, originRight: nil, text: Change.erasedText(count: 1 << 25 + 1)), span: 1 << 25 + 1)
        #expect(throws: CodecError.self) { try ChangeCodec.decode(ChangeCodec.encode([oversized])) }
        var fits = typed
        fits.replaceOperation(.insertText(originLeft: nil, originRight: nil, text: Change.erasedText(count: 1 << 20)), span: 1 << 20)
        #expect(try ChangeCodec.decode(ChangeCodec.encode([fits])).first?.counterSpan == 1 << 20)
    }

    @Test("the erasure property is not vacuous: most seeds erase something")
    func erasuresHappen() throws {
        var erasing = 0
        for seed in UInt64(0)..<40 {
            var simulation = ConvergenceSimulation(seed: seed)
            simulation.erasures = true
            try simulation.run()
            var fresh = SpaceDocument(space: simulation.space)
            try fresh.apply(Array(simulation.allChanges.values))
            if simulation.allChanges.values.contains(where: { fresh.erases($0) }) { erasing += 1 }
        }
        #expect(erasing >= 20, "only \(erasing) of 40 seeds erased any content")
    }

    @Test("who may erase: an admin with the server's approval; an author, their own insight; nobody else")
    func erasureAuthority() throws {
        let serverKey = try SigningKeyPair(rawRepresentation: [UInt8](repeating: 9, count: 32))
        let stranger = try SigningKeyPair(rawRepresentation: [UInt8](repeating: 8, count: 32))
        let ring = ServerKeyRing(pinned: serverKey.publicKey)
        let adaMember = UUID(uuidString: "00000000-0000-4000-8000-00000000ada0")!
        let benMember = UUID(uuidString: "00000000-0000-4000-8000-00000000be70")!
        let session = EntityID(UUID(uuidString: "00000000-0000-4000-8000-0000000000b1")!)
        func erasure(_ target: Erasure.Target, by replica: ReplicaID, approval: ErasureApproval? = nil) -> Change {
            let erasure = Erasure(target: target, approval: approval)
            return Change(
                id: Dot(replica, 5), timestamp: HLCTimestamp(wallTime: 9), space: space, entity: erasure.entity, field: "",
                operation: .erase(erasure))
        }
        func origin(_ entity: EntityID) -> (kind: String, creators: Set<UUID>)? {
            entity == note
                ? (EntityKind.insight.rawValue, [adaMember]) : entity == session ? (EntityKind.session.rawValue, [adaMember]) : nil
        }
        func check(_ change: Change, member: UUID, personalOwner: UUID? = nil) -> String? {
            do throws(TrustError) {
                try ErasureAuthority.check([change], member: member, trusting: ring, personalOwner: personalOwner, origin: origin)
                return nil
            } catch { return error.code }
        }
        // The author erases her own insight, or one of its fields: no approval needed.
        #expect(check(erasure(.entity(note), by: ada), member: adaMember) == nil)
        #expect(check(erasure(.field(note, "text"), by: ada), member: adaMember) == nil)
        // Someone else's insight, a session, an unknown entity, a member's contributions: refused.
        #expect(check(erasure(.entity(note), by: ben), member: benMember) == "erasure_not_permitted")
        #expect(check(erasure(.entity(session), by: ada), member: adaMember) == "erasure_not_permitted")
        #expect(check(erasure(.entity(EntityID(UUID())), by: ada), member: adaMember) == "erasure_not_permitted")
        let everything = Erasure.Target.contributions(member: adaMember, replicas: [ada])
        #expect(check(erasure(everything, by: ben), member: benMember) == "erasure_not_permitted")
        // With the server's approval for this space, device and target: permitted.
        let approval = ErasureApproval.issue(space: space, replica: admin, target: everything, issuedAt: 1, signedBy: serverKey)
        #expect(check(erasure(everything, by: admin, approval: approval), member: benMember) == nil)
        // An approval for another device, another target, another space, or signed by a stranger: refused.
        #expect(check(erasure(everything, by: ben, approval: approval), member: benMember) == "bad_signature")
        #expect(check(erasure(.entity(session), by: admin, approval: approval), member: benMember) == "bad_signature")
        let elsewhere = ErasureApproval.issue(space: SpaceID(UUID()), replica: admin, target: everything, issuedAt: 1, signedBy: serverKey)
        #expect(check(erasure(everything, by: admin, approval: elsewhere), member: benMember) == "bad_signature")
        let forged = ErasureApproval.issue(space: space, replica: admin, target: everything, issuedAt: 1, signedBy: stranger)
        #expect(check(erasure(everything, by: admin, approval: forged), member: benMember) == "untrusted_server_key")
        var altered = approval
        altered.issuedAt += 1
        #expect(check(erasure(everything, by: admin, approval: altered), member: benMember) == "bad_signature")
        // In a member's personal space, that member erases anything without approval (no
        // admin may hold it to approve); anyone else there is held to the usual rule.
        let benWrote = Erasure.Target.contributions(member: benMember, replicas: [ben])
        for target in [Erasure.Target.entity(session), .field(session, "title"), benWrote, .entity(EntityID(UUID()))] {
            #expect(check(erasure(target, by: ada), member: adaMember, personalOwner: adaMember) == nil)
            #expect(check(erasure(target, by: ben), member: benMember, personalOwner: adaMember) == "erasure_not_permitted")
        }
        #expect(
            check(erasure(everything, by: ada, approval: forged), member: adaMember, personalOwner: adaMember) == "untrusted_server_key",
            "an approval carried is still verified")
    }
}
