import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// Changes written before signing existed (docs/TRUST.md, "Migration"): accepted once,
/// marked, only at or below the space's legacy vector in the verified space directory.
@Suite("Migration: changes from before signing")
struct LegacyChangeTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000a1e9")!)

    /// Stores a directory listing `space` with `legacy` as the replica's verified directory.
    func adoptDirectory(_ replica: Replica, legacy: VersionVector, network: SignedNetwork) async throws {
        let member = try #require(try replica.deviceCertificate()).member
        let directory = SpaceDirectory.issue(
            member: member, issuedAt: 2,
            entries: [.init(space: space, name: "North Partnership", kind: .shared, owner: UUID(), legacy: legacy)],
            signedBy: network.server)
        #expect(try await replica.adoptSyncStatements(directory: directory, endorsements: [], certificates: [], revocations: []))
    }

    /// An author's two edits (a session made and titled; then a summary typed), and where the first ends.
    func authorWithTwoEdits(_ directory: TemporaryDirectory) async throws -> (Replica, [Change], firstEnd: Int) {
        let author = try Replica(path: directory.path("author.sqlite"))
        try await author.addSpace(space)
        let session = try await author.edit(in: space) { editor in try editor.createSession(title: "Written before signing") }
        let firstEnd = try author.changes(in: space, missingFrom: VersionVector()).changes.count
        try await author.edit(in: space) { editor in
            try editor.replaceText(DialogueSession.Field.summary, of: session, with: "Written later")
        }
        return (author, try author.changes(in: space, missingFrom: VersionVector()).changes, firstEnd)
    }

    @Test(
        "head-less changes at or below the legacy vector are accepted and marked; above it refused (bad_signature); marks survive reopening"
    )
    func legacyChangesAcceptedOnceAndMarked() async throws {
        let directory = TemporaryDirectory()
        let (author, changes, firstEnd) = try await authorWithTwoEdits(directory)
        let legacy = changes[firstEnd - 1].lastCounter
        var network = SignedNetwork()
        let path = directory.path("receiver.sqlite")
        let receiver = try Replica(path: path)
        try await network.login(receiver)
        try await receiver.addSpace(space)
        try await adoptDirectory(receiver, legacy: VersionVector([author.id: legacy]), network: network)

        // Everything without heads: the part above the legacy vector refuses the whole batch.
        await #expect {
            try await receiver.merge(SignedChanges(changes: changes, heads: []))
        } throws: { error in
            (error as? ReplicaError)?.trustCode == "bad_signature"
        }
        #expect(try receiver.heldVectors()[space]?[author.id] == 0, "a refusal stores nothing")

        // The part at or below it is accepted, marked, and the author's chain advances over it.
        try await receiver.merge(SignedChanges(changes: Array(changes[..<firstEnd]), heads: []))
        #expect(try receiver.heldVectors()[space]?[author.id] == legacy)
        #expect(try receiver.isUnsignedLegacy(Dot(author.id, 1), in: space))
        #expect(try receiver.isUnsignedLegacy(Dot(author.id, legacy), in: space))
        #expect(try !receiver.isUnsignedLegacy(Dot(author.id, legacy + 1), in: space))
        #expect(try !receiver.isUnsignedLegacy(Dot(author.id, 1), in: SpaceID(UUID())))
        #expect(try receiver.unsignedLegacyCounters(in: space) == [author.id: [1...legacy]])

        // What follows, still head-less, is refused.
        await #expect {
            try await receiver.merge(SignedChanges(changes: Array(changes[firstEnd...]), heads: []))
        } throws: { error in
            (error as? ReplicaError)?.trustCode == "bad_signature"
        }
        #expect(try receiver.heldVectors()[space]?[author.id] == legacy)

        // The author upgrades and logs in: its head (its chain starts at counter 1, over the
        // legacy changes) verifies from where the receiver stands; those changes are signed.
        try await network.login(author)
        let page = try author.changes(in: space, missingFrom: VersionVector([author.id: legacy]))
        try await receiver.merge(SignedChanges(changes: page.changes, heads: page.heads), evidence: network.evidence)
        #expect(try receiver.heldVectors()[space]?[author.id] == changes.last!.lastCounter)
        #expect(try !receiver.isUnsignedLegacy(Dot(author.id, legacy + 1), in: space))
        #expect(try await receiver.document(space)?.canonicalExport() == (try await author.document(space)?.canonicalExport()))

        // Reopened: the marks are still there.
        let reopened = try Replica(path: path)
        #expect(try reopened.unsignedLegacyCounters(in: space) == [author.id: [1...legacy]])
        #expect(try reopened.isUnsignedLegacy(Dot(author.id, 2), in: space))
    }

    @Test("without a legacy vector (a space created after signing, or no directory), head-less changes are refused")
    func noLegacyVectorNoUnsignedChanges() async throws {
        let directory = TemporaryDirectory()
        let (_, changes, firstEnd) = try await authorWithTwoEdits(directory)
        var network = SignedNetwork()
        let receiver = try Replica(path: directory.path("receiver.sqlite"))
        try await network.login(receiver)
        try await receiver.addSpace(space)
        // The directory network.login stored lists no space.
        await #expect(throws: ReplicaError.self) {
            try await receiver.merge(SignedChanges(changes: Array(changes[..<firstEnd]), heads: []))
        }
        try await adoptDirectory(receiver, legacy: VersionVector(), network: network)
        await #expect(throws: ReplicaError.self) {
            try await receiver.merge(SignedChanges(changes: Array(changes[..<firstEnd]), heads: []))
        }
        #expect(try receiver.heldVectors()[space] == VersionVector())
        #expect(try receiver.unsignedLegacyCounters(in: space).isEmpty)
    }

    @Test("a legacy change altered by a relay is caught when the author's first signed head arrives (bad_signature)")
    func alteredLegacyChangeCaughtByTheAuthorsHead() async throws {
        let directory = TemporaryDirectory()
        let (author, changes, firstEnd) = try await authorWithTwoEdits(directory)
        let legacy = changes[firstEnd - 1].lastCounter
        var network = SignedNetwork()
        let receiver = try Replica(path: directory.path("receiver.sqlite"))
        try await network.login(receiver)
        try await network.login(author)
        try await receiver.addSpace(space)
        try await adoptDirectory(receiver, legacy: VersionVector([author.id: legacy]), network: network)
        var forged = Array(changes[..<firstEnd])
        let title = try #require(forged.firstIndex { $0.field == DialogueSession.Field.title })
        forged[title].operation = .set(.string("Written by someone else"), predecessors: [])
        try await receiver.merge(SignedChanges(changes: forged, heads: []))
        let page = try author.changes(in: space, missingFrom: VersionVector([author.id: legacy]))
        await #expect {
            try await receiver.merge(SignedChanges(changes: page.changes, heads: page.heads), evidence: network.evidence)
        } throws: { error in
            (error as? ReplicaError)?.trustCode == "bad_signature"
        }
    }

    @Test(
        "a replica older than signing signs its earlier changes once (heads every 1,000 changes); another replica verifies them, unmarked")
    func ownEarlierChangesSignedByTheFirstHeads() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("old.sqlite")
        do {
            let replica = try Replica(path: path)
            try await replica.addSpace(space)
            try await replica.edit(in: space) { editor in
                for index in 0..<520 { _ = try editor.createSession(title: "Before signing \(index)") }
            }
        }
        try await stripSignatures(path)
        // Opening it signs what it wrote before signing existed: one head per 1,000 changes.
        let replica = try Replica(path: path)
        let log = try replica.changes(in: space, missingFrom: VersionVector(), limit: 100_000)
        let expected = (log.changes.count + 999) / 1000
        #expect(expected >= 2, "\(log.changes.count) changes")
        #expect(log.heads.count == expected)
        #expect(try await replica.signUnsignedOwnChanges() == 0, "signed once")
        // And so does a sync, had the heads gone missing since.
        try await stripSignatures(path)
        #expect(try await replica.signUnsignedOwnChanges() == expected)
        #expect(try await replica.signUnsignedOwnChanges() == 0)
        var network = SignedNetwork()
        try await network.login(replica)
        let other = try Replica(path: directory.path("other.sqlite"))
        try await network.login(other)
        try await other.addSpace(space)
        try await signedSync(space, from: replica, to: other, evidence: network.evidence, limit: 10)
        #expect(try await other.document(space)?.canonicalExport() == (try await replica.document(space)?.canonicalExport()))
        #expect(try other.unsignedLegacyCounters(in: space).isEmpty)
        // The chain goes on from there at the next edit.
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "After signing") }
        try await signedSync(space, from: replica, to: other, evidence: network.evidence)
        #expect(try await other.document(space)?.canonicalExport() == (try await replica.document(space)?.canonicalExport()))
    }

    @Test("a push leaves out other devices' head-less changes above the legacy vector, and what depends on them; counted")
    func unverifiableChangesAreHeldBack() async throws {
        let directory = TemporaryDirectory()
        let (stranger, strangerChanges, _) = try await authorWithTwoEdits(directory)
        var network = SignedNetwork()
        let replica = try Replica(path: directory.path("holder.sqlite"))
        try await replica.addSpace(space)
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "Independent") }
        let independent = try replica.changes(in: space, missingFrom: VersionVector())
        // Merged unverified before this replica logged in (as a format-1 bundle did).
        try await replica.merge(strangerChanges)
        let strangerSession = try #require(strangerChanges.first?.entity)
        try await replica.edit(in: space) { editor in
            try editor.set(DialogueSession.Field.title, of: strangerSession, to: .string("Retitled here"))
        }
        try await network.login(replica)
        try await adoptDirectory(replica, legacy: VersionVector(), network: network)

        let heldBack = try replica.changesHeldBack(in: space, serverHas: VersionVector())
        #expect(heldBack.unverifiable == strangerChanges.count)
        #expect(heldBack.waiting == 1, "the retitling depends on the stranger's session")
        #expect(heldBack.from == [stranger.id: 1, replica.id: independent.changes.last!.lastCounter + 1])
        let page = try replica.changes(in: space, missingFrom: VersionVector(), withholding: heldBack.from)
        #expect(page.changes == independent.changes)
        #expect(page.heads.map(\.counter) == [independent.changes.last!.lastCounter])
        // With the stranger's changes at or below the legacy vector (the server holds them), nothing is held back.
        try await adoptDirectory(replica, legacy: VersionVector([stranger.id: strangerChanges.last!.lastCounter]), network: network)
        #expect(try replica.changesHeldBack(in: space, serverHas: VersionVector()).isEmpty)
        // Nor once the server holds them (pushed signed by the stranger's own upgraded device).
        try await adoptDirectory(replica, legacy: VersionVector(), network: network)
        let serverHas = VersionVector([stranger.id: strangerChanges.last!.lastCounter])
        #expect(try replica.changesHeldBack(in: space, serverHas: serverHas).isEmpty)
        #expect(try replica.changes(in: space, missingFrom: serverHas).changes.count == independent.changes.count + 1)
    }

    /// Makes the replica at `path` look as one from before signing: no heads, no positions.
    func stripSignatures(_ path: String) async throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try await queue.write { db in try db.execute(sql: "DELETE FROM chain_heads; DELETE FROM chain_positions") }
        try queue.close()
    }
}
