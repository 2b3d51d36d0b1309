import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueSync

/// Bundle format 2 at the library: every frame verified with the importer's pinned key
/// before it applies, a refusal anywhere storing nothing; the spaces that leave and come in
/// (docs/TRUST.md, "Bundles, format 2").
@Suite("Signed bundles: verification on import, spaces by directory")
struct BundleVerificationTests {
    let shared = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000b0001")!)
    let school = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000b0002")!)

    /// Alice (holding the shared space and her school's private one, with a note in each)
    /// and Bob (shared only), logged in to one server.
    func partners(_ directory: TemporaryDirectory, trust: BundleTrust) async throws -> (alice: Replica, bob: Replica) {
        let alice = try Replica(path: directory.path("alice.sqlite"))
        let bob = try Replica(path: directory.path("bob.sqlite"))
        try await trust.login(alice, shared: [shared], private: [school])
        try await trust.login(bob, shared: [shared])
        for space in [shared, school] {
            try await alice.addSpace(space)
            for title in ["First", "Second", "Third"] {
                try await alice.edit(in: space) { editor in _ = try editor.createSession(title: "\(title) in \(space)") }
            }
        }
        try await bob.addSpace(shared)
        return (alice, bob)
    }

    /// A bundle's header and frames, read with the importer's reader.
    func open(_ url: URL) throws -> (BundleFormat.Header, [BundleFrame]) {
        var reader = try BundleReader(url: url)
        var frames: [BundleFrame] = []
        while let frame = try reader.nextFrame() { frames.append(frame) }
        return (reader.header, frames)
    }

    /// Writes a (possibly altered) bundle well formed: lengths and checksums valid.
    func rewrite(_ header: BundleFormat.Header, _ frames: [BundleFrame], to url: URL) throws {
        var writer = try BundleWriter(to: url, header: header)
        for frame in frames { try writer.write(frame.changes, heads: frame.heads) }
        try writer.finish()
    }

    func expectRefused(
        _ replica: Replica, _ url: URL, code: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = try await ReplicaSnapshot(replica)
        do {
            try await replica.importBundle(from: url)
            Issue.record("imported; expected \(code)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.trustCode == code, "\(error)", sourceLocation: sourceLocation)
        }
        #expect(try await ReplicaSnapshot(replica) == before, "a refused bundle changed the replica", sourceLocation: sourceLocation)
    }

    @Test(
        "export holds the shared spaces by default, signed in frames cut at heads, with the exporter's certificate; named, a private space leaves and is reported"
    )
    func exportChoosesSpaces() async throws {
        let directory = TemporaryDirectory()
        let (alice, _) = try await partners(directory, trust: BundleTrust())
        let url = directory.url.appendingPathComponent("default.dlgb")
        let summary = try alice.exportBundle(to: url)
        #expect(summary.spaces == [shared] && summary.privateSpaces.isEmpty)
        let (header, frames) = try open(url)
        #expect(header.version == 2 && header.spaces.map(\.space) == [shared] && header.spaces.first?.kind == .shared)
        #expect(header.certificates.map(\.replica) == [alice.id])
        #expect(frames.allSatisfy { $0.changes.allSatisfy { $0.space == shared } } && frames.allSatisfy { !$0.heads.isEmpty })
        let named = try alice.exportBundle(to: url, spaces: [shared, school])
        #expect(named.privateSpaces.map(\.space) == [school])
    }

    @Test("a relayed bundle verifies: Alice's changes exported again by Bob carry her heads and certificate to Carol")
    func relayVerifies() async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (alice, bob) = try await partners(directory, trust: trust)
        let carol = try Replica(path: directory.path("carol.sqlite"))
        try await trust.login(carol, shared: [shared])
        let first = directory.url.appendingPathComponent("alice.dlgb")
        try alice.exportBundle(to: first)
        try await bob.importBundle(from: first)
        try await bob.edit(in: shared) { editor in _ = try editor.createSession(title: "Bob's") }
        let relayed = directory.url.appendingPathComponent("bob.dlgb")
        try bob.exportBundle(to: relayed)
        #expect(Set(try open(relayed).0.certificates.map(\.replica)) == [alice.id, bob.id])
        let report = try await carol.importBundle(from: relayed)
        #expect(report.applied > 0)
        #expect(
            try #require(await carol.document(shared)).canonicalExport() == (try #require(await bob.document(shared)).canonicalExport()))
    }

    static func title(of change: Change) -> String? {
        guard case .set(.string(let title), _) = change.operation else { return nil }
        return title
    }

    enum Alteration: String, CaseIterable, Sendable { case content, counter, signature, head, certificate, revoked }

    @Test("an altered bundle is refused with its code and stores nothing", arguments: Alteration.allCases)
    func alteredRefused(_ alteration: Alteration) async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (alice, bob) = try await partners(directory, trust: trust)
        let url = directory.url.appendingPathComponent("alice.dlgb")
        try alice.exportBundle(to: url)
        var (header, frames) = try open(url)
        let code: String
        switch alteration {
        case .content:
            // One letter of a session's title.
            let index = try #require(frames[0].changes.lastIndex { Self.title(of: $0) != nil })
            let title = try #require(Self.title(of: frames[0].changes[index]))
            guard case .set(_, let predecessors) = frames[0].changes[index].operation else { return }
            frames[0].changes[index].operation = .set(.string("X" + title.dropFirst()), predecessors: predecessors)
            code = "bad_signature"
        case .counter:
            frames[0].changes[frames[0].changes.count - 1].id.counter += 1
            code = "counter_gap"
        case .signature:
            frames[0].heads[0].signature[0] ^= 0x80
            code = "bad_signature"
        case .head:
            // The heads dropped: the run ends at no signed counter.
            frames[0].heads = []
            code = "bad_signature"
        case .certificate:
            // A certificate from another server (one the importer does not trust).
            header.certificates = [BundleTrust().certificate(alice.id, key: alice.devicePublicKey)]
            code = "unknown_device"
        case .revoked:
            header.revocations = [
                DeviceRevocation.issue(replica: alice.id, revokedAt: 2, lastCounters: [shared: 1], signedBy: trust.server)
            ]
            code = "revoked_device"
        }
        let altered = directory.url.appendingPathComponent("altered.dlgb")
        try rewrite(header, frames, to: altered)
        try await expectRefused(bob, altered, code: code)
        #expect(try await bob.importBundle(from: url).applied > 0)
    }

    @Test("a refusal in a later frame stores nothing of the earlier ones")
    func laterFrameRefusesAll() async throws {
        let directory = TemporaryDirectory()
        let (alice, bob) = try await partners(directory, trust: BundleTrust())
        // One frame per transaction: three frames, the last one's signature broken.
        var frames: [BundleFrame] = []
        let page = try alice.changes(in: shared, missingFrom: VersionVector())
        var start = 0
        for head in page.heads.sorted(by: { $0.counter < $1.counter }) {
            let end = try #require(page.changes.firstIndex { $0.lastCounter == head.counter }) + 1
            let changes = Array(page.changes[start..<end])
            frames.append(BundleFrame(changes: changes, encoded: Data(ChangeCodec.encode(changes)), heads: [head]))
            start = end
        }
        #expect(frames.count == 3)
        frames[2].heads[0].signature[5] ^= 1
        let url = directory.url.appendingPathComponent("three.dlgb")
        try rewrite(
            BundleFormat.Header(
                createdBy: alice.id, createdAt: 1, spaces: [.init(space: shared)],
                certificates: [try #require(try alice.deviceCertificate())]),
            frames, to: url)
        try await expectRefused(bob, url, code: "bad_signature")
        #expect(try await bob.document(shared)?.sessions.isEmpty != false)
    }

    @Test("importing needs a login; a space the importer's directory lacks refuses the whole bundle before anything applies")
    func loginAndDirectory() async throws {
        let directory = TemporaryDirectory()
        let (alice, bob) = try await partners(directory, trust: BundleTrust())
        let url = directory.url.appendingPathComponent("both.dlgb")
        try alice.exportBundle(to: url, spaces: [shared, school])
        let before = try await ReplicaSnapshot(bob)
        do {
            try await bob.importBundle(from: url)
            Issue.record("a bundle holding another school's private space was imported")
        } catch {
            #expect(error == .spaceNotPermitted(school, name: "Private \(school.description.prefix(4))"), "\(error)")
        }
        #expect(try await ReplicaSnapshot(bob) == before)
        let stranger = try Replica(path: directory.path("stranger.sqlite"))
        do {
            try await stranger.importBundle(from: url)
            Issue.record("imported before login")
        } catch {
            guard error.code == .notLoggedIn else { throw error }
            #expect(error.description.contains("log in first"))
        }
        do {
            try stranger.exportBundle(to: directory.url.appendingPathComponent("stranger.dlgb"))
            Issue.record("exported before login")
        } catch {
            guard error.code == .notLoggedIn else { throw error }
        }
    }
}
