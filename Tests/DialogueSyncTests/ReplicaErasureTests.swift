import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// Erasure at the replica (issue 13, item 1): `forget` rewrites the log, the rows, the
/// search index and the files; a received erasure does the same; the verified merge judges
/// erasures and stripped changes as the server does (docs/TRUST.md, "Erasure").
struct ReplicaErasureTests {
    let shared = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000e0001")!)
    let secret = "Xylophonequagmire"
    let kept = "Marmalatitude"
    let bundles = BundleVerificationTests()

    /// Ada and Ben in one shared space; Ada captured an insight with `secret` (and one with
    /// `kept`), Ben holds both through a bundle and typed into the first one.
    func partners(_ directory: TemporaryDirectory, trust: BundleTrust) async throws -> (ada: Replica, ben: Replica, insight: EntityID) {
        let ada = try Replica(path: directory.path("ada.sqlite"))
        let ben = try Replica(path: directory.path("ben.sqlite"))
        try await trust.login(ada, shared: [shared])
        try await trust.login(ben, shared: [shared])
        try await ada.addSpace(shared)
        try await ben.addSpace(shared)
        let secret = secret
        let kept = kept
        let insight = try await ada.edit(in: shared) { editor in
            let session = try editor.createSession(title: "Visit")
            _ = try editor.captureInsight(in: session, text: "\(kept) is what the partnership learnt")
            return try editor.captureInsight(in: session, text: "\(secret) said about a pupil")
        }
        try await carry(from: ada, to: ben, directory)
        try await ben.edit(in: shared) { editor in try editor.editText(Insight.Field.text, of: insight, at: 0, insert: "Ben adds: ") }
        try await carry(from: ben, to: ada, directory)
        return (ada, ben, insight)
    }

    /// A bundle of what `to` lacks, exported by `from` and imported by `to`.
    @discardableResult
    func carry(from: Replica, to: Replica, _ directory: TemporaryDirectory) async throws -> URL {
        let url = directory.url.appendingPathComponent("\(UUID()).dlgb")
        try from.exportBundle(to: url, recipientHolds: try to.heldVectors())
        try await to.importBundle(from: url)
        return url
    }

    static func fileHolds(_ url: URL, _ text: String) throws -> Bool {
        try Data(contentsOf: url).range(of: Data(text.utf8)) != nil
    }

    @Test(
        "the author forgets her insight: gone from the log, rows, search and every file; the erasure syncs by bundle and the receiver's files are clean; both converge"
    )
    func authorForgetsHerInsight() async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (ada, ben, insight) = try await partners(directory, trust: trust)
        for replica in [ada, ben] {
            #expect(!(try LeavingTests.files(of: replica, containing: secret)).isEmpty, "the search would prove nothing")
        }

        let forgotten = try await ada.forget(.entity(insight), in: shared)
        #expect(forgotten.stripped >= 2)  // Ada's words and Ben's
        for word in [secret, secret.lowercased(), "Ben adds"] {
            #expect(try LeavingTests.files(of: ada, containing: word).isEmpty, "\(word) is still in Ada's files")
        }
        #expect(!(try LeavingTests.files(of: ada, containing: kept)).isEmpty)
        #expect(try ada.search(secret.lowercased()).isEmpty)
        #expect(try ada.search(kept.lowercased()).count == 1)
        let rows = try await ada.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM insights WHERE insight_id = ?", arguments: [insight.blob])
        }
        #expect(rows == 0)
        // Editing it is refused: it is gone (decision 4).
        await #expect(throws: ReplicaError.entityNotFound(insight)) {
            try await ada.edit(in: self.shared) { editor in try editor.editText(Insight.Field.text, of: insight, at: 0, insert: "again") }
        }

        let url = try await carry(from: ada, to: ben, directory)
        #expect(try !Self.fileHolds(url, secret), "the bundle exported after the erasure carries the erased words")
        for word in [secret, secret.lowercased(), "Ben adds"] {
            #expect(try LeavingTests.files(of: ben, containing: word).isEmpty, "\(word) is still in Ben's files")
        }
        #expect(!(try LeavingTests.files(of: ben, containing: kept)).isEmpty)
        #expect(await ada.document(shared)?.canonicalExport() == ben.document(shared)?.canonicalExport())

        // Reopened, both still hold no trace and still agree; a third replica importing Ada's bundle too.
        let carl = try Replica(path: directory.path("carl.sqlite"))
        try await trust.login(carl, shared: [shared])
        let full = directory.url.appendingPathComponent("full.dlgb")
        try ada.exportBundle(to: full)
        #expect(try !Self.fileHolds(full, secret))
        try await carl.importBundle(from: full)
        let reopened = try Replica(path: ada.path)
        #expect(await reopened.document(shared)?.canonicalExport() == carl.document(shared)?.canonicalExport())
        #expect(try LeavingTests.files(of: carl, containing: secret).isEmpty)
    }

    @Test("an erased field: its history stripped, its column empty; the entity and its other fields stay")
    func forgetAField() async throws {
        let directory = TemporaryDirectory()
        let (ada, _, insight) = try await partners(directory, trust: BundleTrust())
        try await ada.edit(in: shared) { editor in try editor.set(Insight.Key.evidenceSource, of: insight, to: "Quintessentialbadger") }
        try await ada.forget(.field(insight, Insight.Field.text), in: shared)
        for word in [secret, "Ben adds"] { #expect(try LeavingTests.files(of: ada, containing: word).isEmpty) }
        #expect(!(try LeavingTests.files(of: ada, containing: "Quintessentialbadger")).isEmpty)
        #expect(await ada.document(shared)?.text(Insight.Field.text, of: insight) == "")
        // New words after the erasure are kept.
        try await ada.edit(in: shared) { editor in try editor.editText(Insight.Field.text, of: insight, at: 0, insert: "Rewritten") }
        #expect(await ada.document(shared)?.text(Insight.Field.text, of: insight) == "Rewritten")
    }

    @Test(
        "a change waiting for its past that a field's erasure may cover leaves no words in the files; it comes again with its past, stripped, and all converge"
    )
    func waitingChangeAnErasureMayCover() async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (ada, ben, insight) = try await partners(directory, trust: trust)
        let cy = try Replica(path: directory.path("cy.sqlite"))
        try await trust.login(cy, shared: [shared])
        try await cy.addSpace(shared)
        try await carry(from: ada, to: cy, directory)
        // Cy types; Ben sees it and types after it, before anyone erases anything.
        try await cy.edit(in: shared) { editor in try editor.editText(Insight.Field.text, of: insight, at: 0, insert: "Cy: ") }
        try await carry(from: cy, to: ben, directory)
        let concurrent = "Quagmirezephyr"
        try await ben.edit(in: shared) { editor in
            try editor.editText(Insight.Field.text, of: insight, at: 0, insert: "\(concurrent) said ")
        }
        // A bundle of Ben's words without Cy's, on which they depend: at Ada they wait.
        var claimed = try ada.heldVectors()
        claimed[shared]![cy.id] = try cy.heldVectors()[shared]![cy.id]
        let partial = directory.url.appendingPathComponent("partial.dlgb")
        try ben.exportBundle(to: partial, spaces: [shared], recipientHolds: claimed)
        let report = try await ada.importBundle(from: partial)
        #expect(report.waiting > 0, "the test needs Ben's change to wait at Ada")
        #expect(!(try heldIn(ada, concurrent)).isEmpty, "waiting, its words are on disk until an erasure covers it")

        // Ada erases her insight's text: Ben's waiting words may be covered (he had not seen
        // the erasure), so they are not kept while their past is missing.
        try await ada.forget(.field(insight, Insight.Field.text), in: shared)
        #expect(try heldIn(ada, concurrent).isEmpty, "a waiting change kept erased words in Ada's files")

        // Cy's words and Ben's again, in any order: Ben's now apply, stripped (concurrent).
        try await carry(from: ben, to: ada, directory)
        try await carry(from: cy, to: ada, directory)
        try await carry(from: ben, to: ada, directory)
        #expect(try heldIn(ada, concurrent).isEmpty)
        #expect(await ada.document(shared)?.pendingCount == 0)
        for replica in [ben, cy] {
            try await carry(from: ada, to: replica, directory)
            #expect(try heldIn(replica, concurrent).isEmpty)
            #expect(await replica.document(shared)?.canonicalExport() == ada.document(shared)?.canonicalExport())
        }
    }

    @Test("Ben may not forget Ada's insight without an approval: refused before anything is written")
    func othersInsightRefused() async throws {
        let directory = TemporaryDirectory()
        let (_, ben, insight) = try await partners(directory, trust: BundleTrust())
        let before = try await ReplicaSnapshot(ben)
        do {
            try await ben.forget(.entity(insight), in: shared)
            Issue.record("Ben erased Ada's insight")
        } catch {
            #expect(error.trustCode == "erasure_not_permitted", "\(error)")
        }
        #expect(try await ReplicaSnapshot(ben) == before)
        #expect(!(try LeavingTests.files(of: ben, containing: secret)).isEmpty)
    }

    @Test("an approval from the server lets an admin's device erase what another wrote; one for another target is refused")
    func approvedErasure() async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (ada, ben, insight) = try await partners(directory, trust: trust)
        let wrong = ErasureApproval.issue(
            space: shared, replica: ben.id, target: .field(insight, Insight.Field.text), issuedAt: 1, signedBy: trust.server)
        await #expect(throws: ReplicaError.self) { try await ben.forget(.entity(insight), in: self.shared, approval: wrong) }
        let approval = ErasureApproval.issue(space: shared, replica: ben.id, target: .entity(insight), issuedAt: 1, signedBy: trust.server)
        try await ben.forget(.entity(insight), in: shared, approval: approval)
        #expect(try LeavingTests.files(of: ben, containing: secret).isEmpty)
        try await carry(from: ben, to: ada, directory)
        #expect(try LeavingTests.files(of: ada, containing: secret).isEmpty)
    }

    @Test(
        "an admin's approved erasure of a member's contributions strips everything her devices wrote, in every entity; others' words stay")
    func forgetContributions() async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (ada, ben, _) = try await partners(directory, trust: trust)
        let target = Erasure.Target.contributions(member: BundleTrust.member(of: ada.id), replicas: [ada.id])
        await #expect(throws: ReplicaError.self) { try await ben.forget(target, in: self.shared) }
        let approval = ErasureApproval.issue(space: shared, replica: ben.id, target: target, issuedAt: 1, signedBy: trust.server)
        try await ben.forget(target, in: shared, approval: approval)
        for word in [secret, kept, "Visit"] { #expect(try heldIn(ben, word).isEmpty, "\(word) is still in Ben's files") }
        #expect(!(try heldIn(ben, "Ben adds")).isEmpty, "Ben's own words went too")
        try await carry(from: ben, to: ada, directory)
        for word in [secret, kept] { #expect(try heldIn(ada, word).isEmpty, "\(word) is still in Ada's files") }
        #expect(await ada.document(shared)?.canonicalExport() == ben.document(shared)?.canonicalExport())
    }

    private func heldIn(_ replica: Replica, _ word: String) throws -> [String] {
        try LeavingTests.files(of: replica, containing: word)
    }

    @Test("a bundle carrying Ada's changes stripped without the erasure is refused whole: a relay may not hide words")
    func strippedWithoutErasureRefused() async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (ada, _, _) = try await partners(directory, trust: trust)
        let carl = try Replica(path: directory.path("carl.sqlite"))
        try await trust.login(carl, shared: [shared])
        let url = directory.url.appendingPathComponent("honest.dlgb")
        try ada.exportBundle(to: url)
        var (header, frames) = try bundles.open(url)
        let secret = secret
        for index in frames.indices {
            frames[index].changes = frames[index].changes.map { change in
                guard case .insertText(_, _, let text) = change.operation, text.contains(secret) else { return change }
                return change.erasingContent()
            }
        }
        #expect(frames.contains { $0.changes.contains(where: \.isContentErased) }, "nothing was stripped")
        let altered = directory.url.appendingPathComponent("withheld.dlgb")
        header.createdBy = carl.id
        try bundles.rewrite(header, frames, to: altered)
        try await bundles.expectRefused(carl, altered, code: "erasure_not_permitted")
    }

    @Test("a bundle holding an erasure of Ada's insight by a device of another member, without approval, is refused whole")
    func erasureByNonAuthorInBundleRefused() async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (ada, _, insight) = try await partners(directory, trust: trust)
        let carl = try Replica(path: directory.path("carl.sqlite"))
        try await trust.login(carl, shared: [shared])
        // Mallory: a certified device of another member, writing an erasure by hand.
        let mallory = ReplicaID(rawValue: 0x6d61_6c6c_6f72_7901)!
        var signer = ChangeSigner()
        var document = try #require(await ada.document(shared))
        let erasure = document.erase(
            Erasure(target: .entity(insight)),
            by: EditContext(replica: mallory, timestamp: HLCTimestamp(wallTime: UInt64(Date().timeIntervalSince1970 * 1000), logical: 0)))
        let url = directory.url.appendingPathComponent("honest.dlgb")
        try ada.exportBundle(to: url)
        var (header, frames) = try bundles.open(url)
        header.certificates.append(trust.certificate(mallory, key: signer.key.publicKey))
        frames.append(BundleFrame(changes: [erasure], encoded: Data(), heads: try signer.sign([erasure])))
        let altered = directory.url.appendingPathComponent("mallory.dlgb")
        try bundles.rewrite(header, frames, to: altered)
        try await bundles.expectRefused(carl, altered, code: "erasure_not_permitted")
        // The same erasure with the server's approval for that device is accepted, and strips.
        var approvedDocument = try #require(await ada.document(shared))
        let approval = ErasureApproval.issue(space: shared, replica: mallory, target: .entity(insight), issuedAt: 1, signedBy: trust.server)
        let approved = approvedDocument.erase(
            Erasure(target: .entity(insight), approval: approval),
            by: EditContext(replica: mallory, timestamp: HLCTimestamp(wallTime: UInt64(Date().timeIntervalSince1970 * 1000), logical: 0)))
        var approvedSigner = ChangeSigner(key: signer.key)
        frames[frames.count - 1] = BundleFrame(changes: [approved], encoded: Data(), heads: try approvedSigner.sign([approved]))
        let accepted = directory.url.appendingPathComponent("approved.dlgb")
        try bundles.rewrite(header, frames, to: accepted)
        try await carl.importBundle(from: accepted)
        #expect(try LeavingTests.files(of: carl, containing: secret).isEmpty)
    }

    @Test("a push page holding stripped changes runs on to the erasure after them (the server takes them only with it)")
    func pageWithStrippedChangesReachesTheErasure() async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (ada, _, insight) = try await partners(directory, trust: trust)
        try await ada.forget(.entity(insight), in: shared)
        // Pages of one change, as small as a push can be: each is cut at a signed head.
        var cursor = ChangeCursor.start
        var pages: [[Change]] = []
        while true {
            let page = try ada.changes(in: shared, missingFrom: VersionVector(), after: cursor, limit: 1)
            pages.append(page.changes)
            guard let next = page.next else { break }
            cursor = next
        }
        #expect(pages.contains { $0.contains(where: \.isContentErased) }, "the log holds stripped changes")
        for page in pages where page.contains(where: \.isContentErased) {
            let lastStripped = page.lastIndex(where: \.isContentErased)!
            #expect(
                page[lastStripped...].contains { if case .erase = $0.operation { true } else { false } },
                "a page ends with stripped changes and no erasure after them: the server would refuse it")
        }
    }
}
