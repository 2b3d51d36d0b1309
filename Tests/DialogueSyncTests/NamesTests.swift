import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueSync

/// Issue 12, items 4 and 5: names from certificates (authors, history) and from the space
/// directory (spaces), all read from what the replica verified and cached.
@Suite("Names: authors from certificates, history, named spaces")
struct NamesTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000a0001")!)
    let other = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000a0002")!)
    let ada = EntityID(UUID(uuidString: "ada00000-0000-4000-8000-000000000001")!)
    let ben = EntityID(UUID(uuidString: "be000000-0000-4000-8000-000000000002")!)

    /// Logs `replica` in under `server` as `member` of `school`, with `entries` as its directory.
    func login(
        _ replica: Replica, server: SigningKeyPair, member: EntityID, name: String, school: String,
        entries: [SpaceDirectory.Entry] = [], issuedAt: Int64 = 1
    ) async throws -> DeviceCertificate {
        let certificate = DeviceCertificate.issue(
            replica: replica.id, publicKey: replica.devicePublicKey, member: member.uuid, memberName: name,
            school: UUID(
                uuidString: school == "Northgate" ? "5c000000-0000-4000-8000-000000000001" : "5c000000-0000-4000-8000-000000000002")!,
            schoolName: school, issuedAt: issuedAt, signedBy: server)
        let directory = SpaceDirectory.issue(member: member.uuid, issuedAt: issuedAt, entries: entries, signedBy: server)
        try await replica.adopt(
            VerifiedRegistration(
                ring: ServerKeyRing(pinned: server.publicKey), certificate: certificate, directory: directory, startsNewPin: true))
        return certificate
    }

    @Test("a device's author is its certified member; a device with no certificate is 'an unverified device', never a person")
    func authorsFromCertificates() async throws {
        let directory = TemporaryDirectory()
        let server = SigningKeyPair()
        let replica = try Replica(path: directory.path("ada.sqlite"))
        let stranger = try #require(ReplicaID("3f2a9c01deadbeef"))
        // Before login, this device has no certificate either.
        #expect(try replica.author(of: replica.id).member == nil)
        #expect(try replica.author(of: replica.id).description.hasPrefix("an unverified device \(replica.id.description.prefix(8))"))
        let certificate = try await login(replica, server: server, member: ada, name: "Ada Lovelace", school: "Northgate")
        let mine = try replica.author(of: replica.id)
        #expect(mine.member == CertifiedMember(certificate))
        #expect(mine.description == "Ada Lovelace (Northgate)")
        let unknown = try replica.author(of: stranger)
        #expect(unknown.member == nil && unknown.description == "an unverified device 3f2a9c01…")
        #expect(!unknown.description.contains(stranger.description), "a bare replica id shown as a person")
        // The batch lookup agrees, and finds a member by id from a device of theirs.
        let names = try replica.authorNames()
        #expect(names.author(of: replica.id) == mine && names.author(of: stranger) == unknown)
        #expect(names.member(ada)?.name == "Ada Lovelace" && names.member(ben) == nil)
        // JSON: stable fields, the member omitted when not certified.
        let json = String(decoding: try JSONEncoder().encode(unknown), as: UTF8.self)
        #expect(json.contains(#""certified":false"#) && !json.contains("name"))
        let flat = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(mine)) as? [String: Any])
        #expect(
            flat["name"] as? String == "Ada Lovelace" && flat["schoolName"] as? String == "Northgate" && flat["certified"] as? Bool == true)
        #expect(flat["id"] as? String == ada.description && flat["device"] as? String == replica.id.description)
        let decoded = try JSONDecoder().decode(DeviceAuthor.self, from: try JSONEncoder().encode(mine))
        #expect(decoded == mine)
    }

    @Test(
        "history: two certified members edit one insight's text and a field, an uncertified device edits too; each edit named, timed, marked"
    )
    func historyOfAnInsight() async throws {
        let directory = TemporaryDirectory()
        let clock = ManualWallClock(1_767_225_600_000)
        var network = SignedNetwork()
        let adaReplica = try Replica(path: directory.path("ada.sqlite"), wallClock: clock)
        let benReplica = try Replica(path: directory.path("ben.sqlite"), wallClock: clock)
        let strayReplica = try Replica(path: directory.path("stray.sqlite"), wallClock: clock)
        for replica in [adaReplica, benReplica, strayReplica] { try await replica.addSpace(space) }
        try await network.login(adaReplica, member: ada)
        try await network.login(benReplica, member: ben)
        let (session, insight) = try await adaReplica.edit(in: space) { editor in
            let session = try editor.createSession(title: "Feedback")
            return (session, try editor.captureInsight(in: session, text: "Peer feedback needs modelling first."))
        }
        _ = session
        try await signedSync(space, from: adaReplica, to: benReplica, evidence: network.evidence)
        clock.advance(by: 60_000)
        try await benReplica.edit(in: space) { editor in
            // Deletes "needs " and sets a field.
            try editor.editText(Insight.Field.text, of: insight, at: 14, delete: 6)
            try editor.set(Insight.Field.kind, of: insight, to: .string(InsightKind.evidenceFromMonitoring.rawValue))
        }
        try await signedSync(space, from: benReplica, to: adaReplica, evidence: network.evidence)
        // A device that never logged in: its edit arrives unverified (merged as before signing).
        try await sync(space, from: adaReplica, to: strayReplica)
        clock.advance(by: 60_000)
        try await strayReplica.edit(in: space) { editor in try editor.editText(Insight.Field.text, of: insight, at: 0, insert: "Stray: ") }
        try await sync(space, from: strayReplica, to: adaReplica)

        let history = try await adaReplica.history(of: insight)
        #expect(history.kind == "insight" && history.space == space)
        let adaName = "Member 0 (School)"
        let benName = "Member 1 (School)"
        let created = try #require(history.edits.first)
        #expect(created.edit == .created(kind: "insight") && created.field == "")
        #expect(created.author.description == adaName && created.signing == .signed)
        #expect(created.author.member?.id == ada)
        let typed = try #require(
            history.edits.first { $0.edit == .insertedText(excerpt: "Peer feedback needs modelling first.", length: 36) })
        #expect(typed.field == Insight.Field.text && typed.author.description == adaName && typed.signing == .signed)
        let deleted = try #require(history.edits.first { if case .deletedText = $0.edit { true } else { false } })
        #expect(deleted.edit == .deletedText(excerpt: "needs ", length: 6))
        #expect(deleted.author.description == benName && deleted.author.member?.id == ben && deleted.signing == .signed)
        #expect(deleted.author.device == benReplica.id)
        #expect(deleted.milliseconds == 1_767_225_660_000)
        let kind = try #require(history.edits.first { $0.field == Insight.Field.kind })
        #expect(kind.edit == .set(.string(InsightKind.evidenceFromMonitoring.rawValue)) && kind.author.description == benName)
        let stray = try #require(history.edits.last)
        #expect(stray.edit == .insertedText(excerpt: "Stray: ", length: 7))
        #expect(stray.author.member == nil && stray.author.device == strayReplica.id)
        #expect(stray.author.description == "an unverified device \(strayReplica.id.description.prefix(8))…")
        #expect(stray.signing == .unsigned)
        // Oldest first, and the same history (names aside) on Ben's replica for what both hold.
        #expect(history.edits.map(\.timestamp) == history.edits.map(\.timestamp).sorted())
        let bens = try await benReplica.history(of: insight)
        #expect(Array(history.edits.prefix(bens.edits.count)).map(\.dot) == bens.edits.map(\.dot))
        // JSON round trip.
        let decoded = try JSONDecoder().decode(EntityHistory.self, from: try JSONEncoder().encode(history))
        #expect(decoded == history)
        // An id nothing holds.
        await #expect(throws: ReplicaError.entityNotFound(ada)) { try await adaReplica.history(of: ada) }
    }

    @Test("history marks changes accepted under the legacy vector 'unsigned, before protocol 2', signed ones signed")
    func historyMarksLegacyChanges() async throws {
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        // An author from before signing (never logged in): its changes reach the receiver without heads.
        let author = try Replica(path: directory.path("old.sqlite"))
        let receiver = try Replica(path: directory.path("receiver.sqlite"))
        for replica in [author, receiver] { try await replica.addSpace(space) }
        let session = try await author.edit(in: space) { editor in try editor.createSession(title: "Written before signing") }
        let old = try author.changes(in: space, missingFrom: VersionVector()).changes
        try await network.login(receiver, member: ada)
        let legacyDirectory = SpaceDirectory.issue(
            member: ada.uuid, issuedAt: 2,
            entries: [
                .init(
                    space: space, name: "North Partnership", kind: .shared, owner: UUID(),
                    legacy: VersionVector([author.id: old.last!.lastCounter]))
            ],
            signedBy: network.server)
        #expect(try await receiver.adoptSyncStatements(directory: legacyDirectory, endorsements: [], certificates: [], revocations: []))
        try await receiver.merge(SignedChanges(changes: old, heads: []))
        try await receiver.edit(in: space) { editor in try editor.set(DialogueSession.Field.focus, of: session, to: .string("Feedback")) }

        let edits = try await receiver.history(of: session).edits
        let before = edits.filter { $0.dot.replica == author.id }
        #expect(!before.isEmpty && before.allSatisfy { $0.signing == .unsignedLegacy }, "\(before)")
        #expect(before.allSatisfy { $0.author.member == nil }, "no certificate of the old device is held")
        let mine = try #require(edits.last)
        #expect(mine.dot.replica == receiver.id && mine.signing == .signed && mine.field == DialogueSession.Field.focus)
        #expect(HistorySigning.unsignedLegacy.displayName == "unsigned, before protocol 2")
    }

    @Test("a long insertion and deletion are shown as excerpts with their length")
    func excerpts() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("a.sqlite"))
        try await replica.addSpace(space)
        let long = String(repeating: "abcdefghij", count: 10)
        let id = try await replica.edit(in: space) { editor in
            let session = try editor.createSession(title: "T")
            try editor.replaceText(DialogueSession.Field.summary, of: session, with: long)
            return session
        }
        try await replica.edit(in: space) { editor in try editor.replaceText(DialogueSession.Field.summary, of: id, with: "") }
        let edits = try await replica.history(of: id).edits
        let cut = String(long.prefix(HistoryEditKind.excerptLimit)) + "…"
        #expect(edits.contains { $0.edit == .insertedText(excerpt: cut, length: 100) })
        #expect(edits.contains { $0.edit == .deletedText(excerpt: cut, length: 100) })
        #expect(edits.contains { $0.edit == .set(.string("T")) && $0.field == DialogueSession.Field.title })
    }

    @Test("named spaces: names and kinds from the directory; a held space not listed shows its id and says so; lookup by id or name")
    func namedSpaces() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("a.sqlite"))
        let unlisted = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000a0003")!)
        try await replica.addSpace(space)
        try await replica.addSpace(unlisted)
        // Before login: no directory, so no names.
        #expect(
            try await replica.namedSpaces().map(\.displayName) == [
                "\(space) (not in your directory)", "\(unlisted) (not in your directory)",
            ])
        let owner = UUID()
        _ = try await login(
            replica, server: SigningKeyPair(), member: ada, name: "Ada", school: "Northgate",
            entries: [
                .init(space: space, name: "North Partnership", kind: .shared, owner: owner),
                .init(space: other, name: "Northgate", kind: .private, owner: owner),
            ])
        let held = try await replica.namedSpaces()
        #expect(held.map(\.id) == [space, unlisted])
        #expect(held[0] == NamedSpace(id: space, name: "North Partnership", kind: .shared, held: true))
        #expect(held[1].name == nil && held[1].kind == nil && held[1].displayName == "\(unlisted) (not in your directory)")
        // Lookup: by id, by name (exact or any case), a listed space not held says so.
        #expect(try await replica.space(named: space.description).id == space)
        #expect(try await replica.space(named: "north partnership").id == space)
        #expect(try await replica.space(named: "Northgate") == NamedSpace(id: other, name: "Northgate", kind: .private, held: false))
        #expect(try await replica.space(named: unlisted.description).held)
        do {
            _ = try await replica.space(named: "South")
            Issue.record("an unknown name resolved")
        } catch let error {
            guard error.code == .spaceNotFound, error.input == "South" else { throw error }
            #expect(Set(error.candidates.map(\.id)) == [space, other, unlisted])
            #expect(error.description.contains("North Partnership (\(space))") && error.description.contains("Northgate"))
        }
    }

    @Test("a name two spaces share is refused, listing both with their ids")
    func ambiguousName() throws {
        let server = SigningKeyPair()
        let owner = UUID()
        let directory = SpaceDirectory.issue(
            member: ada.uuid, issuedAt: 1,
            entries: [
                .init(space: space, name: "Hill", kind: .shared, owner: owner),
                .init(space: other, name: "Hill", kind: .private, owner: owner),
            ],
            signedBy: server)
        let names = SpaceNames(directory: directory, held: [space])
        #expect(throws: ReplicaError.ambiguousSpaceName("Hill", matches: [names.space(space), names.space(other)])) {
            try names.resolve("Hill")
        }
        #expect(try names.resolve(other.description).name == "Hill")
    }

    @Test("sync progress lines name spaces from the directory, and say when one is not in it")
    func progressLinesNameSpaces() {
        let directory = SpaceDirectory.issue(
            member: ada.uuid, issuedAt: 1, entries: [.init(space: space, name: "North Partnership", kind: .shared, owner: UUID())],
            signedBy: SigningKeyPair())
        let names = SpaceNames(directory: directory, held: [space, other])
        #expect(
            SyncClient.Progress.exchanged(space: space, pushed: 3, pulled: 1).line(names: names)
                == "syncing North Partnership: sent 3, received 1")
        #expect(SyncClient.Progress.finished(space: space).line(names: names) == "synced North Partnership")
        #expect(SyncClient.Progress.finished(space: other).line(names: names) == "synced \(other) (not in your directory)")
        #expect(
            SyncClient.Progress.retrying(attempt: 2, delay: .seconds(1), reason: "timed out").line(names: names)
                == "retrying (2) in 1.0 seconds: timed out")
    }

    @Test("an entity's author is the certified member of the device that created it")
    func entityAuthor() async throws {
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        let adaReplica = try Replica(path: directory.path("ada.sqlite"))
        let benReplica = try Replica(path: directory.path("ben.sqlite"))
        for replica in [adaReplica, benReplica] { try await replica.addSpace(space) }
        try await network.login(adaReplica, member: ada)
        try await network.login(benReplica, member: ben)
        let insight = try await benReplica.edit(in: space) { editor in
            try editor.captureInsight(in: try editor.createSession(title: "S"), text: "Ben's note")
        }
        try await signedSync(space, from: benReplica, to: adaReplica, evidence: network.evidence)
        #expect(await adaReplica.creator(of: insight) == benReplica.id)
        #expect(try await adaReplica.author(ofEntity: insight)?.member?.id == ben)
        #expect(try await adaReplica.author(ofEntity: ada) == nil)
    }
}
