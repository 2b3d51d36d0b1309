import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// One server key certifying a few replicas, as logins to one server would.
struct SignedNetwork {
    let server = SigningKeyPair()
    private(set) var certificates: [DeviceCertificate] = []

    /// Logs `replica` in: pins the server key, stores its certificate and directory.
    mutating func login(_ replica: Replica, member: EntityID = EntityID(UUID())) async throws {
        let certificate = DeviceCertificate.issue(
            replica: replica.id, publicKey: replica.devicePublicKey, member: member.uuid, memberName: "Member \(certificates.count)",
            school: UUID(), schoolName: "School", issuedAt: 1, signedBy: server)
        let directory = SpaceDirectory.issue(member: member.uuid, issuedAt: 1, entries: [], signedBy: server)
        try await replica.adopt(
            VerifiedRegistration(
                ring: ServerKeyRing(pinned: server.publicKey), certificate: certificate, directory: directory, startsNewPin: true))
        certificates.append(certificate)
    }

    var evidence: DeviceEvidence { DeviceEvidence(certificates: certificates) }
}

/// Sends what `to` lacks of `space` from `from` through the verifying merge, in pages of
/// about `limit` (each cut at signed heads).
@discardableResult
func signedSync(
    _ space: SpaceID, from: Replica, to: Replica, evidence: DeviceEvidence, limit: Int = 100_000
) async throws -> Int {
    let vector = try to.heldVectors()[space] ?? VersionVector()
    var cursor: ChangeCursor? = .start
    var sent = 0
    while let current = cursor {
        let page = try from.changes(in: space, missingFrom: vector, after: current, limit: limit)
        try await to.merge(SignedChanges(changes: page.changes, heads: page.heads), evidence: evidence)
        sent += page.changes.count
        cursor = page.next
    }
    return sent
}

@Suite("Signed changes: signing at each edit, verification at merge")
struct SignedMergeTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000516e")!)

    /// A space's state, canonically exported (equal on replicas that converged).
    func state(_ replica: Replica) async throws -> [UInt8] {
        try #require(await replica.document(space)).canonicalExport()
    }

    @Test("each local transaction stores one head at its last counter, signed by the device key over the chain")
    func eachTransactionIsSigned() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("a.sqlite"))
        try await replica.addSpace(space)
        for title in ["One", "Two", "Three"] {
            try await replica.edit(in: space) { editor in _ = try editor.createSession(title: title) }
        }
        let page = try replica.changes(in: space, missingFrom: VersionVector())
        #expect(page.heads.count == 3)
        var chain = DeviceChain(space: space, replica: replica.id)
        try chain.advance(over: page.changes)
        let last = try #require(page.heads.max { $0.counter < $1.counter })
        #expect(last.counter == chain.counter)
        #expect(last.hash == chain.hash)
        try last.verify(signedBy: replica.devicePublicKey)
        // The verifier accepts the whole log from nothing, with the device's own key.
        let verified = try ChainVerifier(ring: ServerKeyRing(pinned: SigningKeyPair().publicKey)).verify(
            page.changes, extending: DeviceChain(space: space, replica: replica.id), heads: page.heads, signedBy: replica.devicePublicKey)
        #expect(verified == chain)
    }

    @Test("a replica older than signing: its chain starts at counter 1, so its first head vouches for its earlier changes")
    func existingChangesStartTheChain() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("old.sqlite")
        do {
            let replica = try Replica(path: path)
            try await replica.addSpace(space)
            try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "Before signing") }
        }
        // As a replica from before signing holds: no heads, no positions. (The replica's last
        // connection may still be checkpointing as it closes: wait for it rather than fail.)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try await queue.write { db in try db.execute(sql: "DELETE FROM chain_heads; DELETE FROM chain_positions") }
        try queue.close()
        // Opening it signs its earlier changes (docs/TRUST.md, "Migration"); the edit signs its own.
        let replica = try Replica(path: path)
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "After signing") }
        let page = try replica.changes(in: space, missingFrom: VersionVector())
        #expect(page.heads.count == 2)
        var network = SignedNetwork()
        let other = try Replica(path: directory.path("other.sqlite"))
        try await network.login(other)
        try await network.login(replica)
        try await other.merge(SignedChanges(changes: page.changes, heads: page.heads), evidence: network.evidence)
        #expect(try await state(other) == (try await state(replica)))
    }

    @Test("the own chain continues across reopening; the whole log verifies at another replica")
    func ownChainAcrossReopen() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("a.sqlite")
        var network = SignedNetwork()
        do {
            let replica = try Replica(path: path)
            try await network.login(replica)
            try await replica.addSpace(space)
            try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "First") }
        }
        let replica = try Replica(path: path)
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "Second") }
        let other = try Replica(path: directory.path("b.sqlite"))
        try await network.login(other)
        try await other.addSpace(space)
        #expect(try await signedSync(space, from: replica, to: other, evidence: network.evidence, limit: 1) > 0)
        #expect(try await state(other) == (try await state(replica)))
        // B's later edits arrive back at A verified too, with A's own changes dropped as held.
        try await other.edit(in: space) { editor in _ = try editor.createSession(title: "From B") }
        try await signedSync(space, from: other, to: replica, evidence: network.evidence)
        #expect(try await state(other) == (try await state(replica)))
    }

    /// A page of A's signed changes for B, and both replicas.
    func signedPage(_ directory: TemporaryDirectory) async throws -> (ChangePage, Replica, Replica, SignedNetwork) {
        var network = SignedNetwork()
        let author = try Replica(path: directory.path("author.sqlite"))
        let receiver = try Replica(path: directory.path("receiver.sqlite"))
        try await network.login(author)
        try await network.login(receiver)
        try await author.addSpace(space)
        try await author.edit(in: space) { editor in
            let session = try editor.createSession(title: "Feedback that moves learning on")
            try editor.replaceText(DialogueSession.Field.summary, of: session, with: "Pupils said")
        }
        try await author.edit(in: space) { editor in _ = try editor.createSession(title: "Reading for pleasure") }
        return (try author.changes(in: space, missingFrom: VersionVector()), author, receiver, network)
    }

    @Test(
        "an altered byte of content, counter or signature is refused at merge, nothing stored",
        arguments: ["content", "counter", "signature", "dropped", "unsigned"])
    func alteredChangesRefused(alteration: String) async throws {
        let directory = TemporaryDirectory()
        let (page, _, receiver, network) = try await signedPage(directory)
        var changes = page.changes
        var heads = page.heads
        switch alteration {
        case "content":
            let index = try #require(changes.firstIndex { if case .set(.string, _) = $0.operation { true } else { false } })
            guard case .set(.string(let text), let predecessors) = changes[index].operation else { return }
            changes[index].operation = .set(.string(text + "!"), predecessors: predecessors)
        case "counter":
            // The last change claims the next counter: its head no longer matches.
            changes[changes.count - 1].id = Dot(changes[changes.count - 1].replica, changes[changes.count - 1].id.counter + 1)
        case "signature":
            heads[heads.count - 1].signature[0] ^= 1
        case "dropped":
            changes.remove(at: 1)
        default:
            heads.removeLast()
        }
        let before = try await ReplicaSnapshot(receiver)
        await #expect {
            try await receiver.merge(SignedChanges(changes: changes, heads: heads), evidence: network.evidence)
        } throws: { error in
            guard let error = error as? ReplicaError, let code = error.trustCode else { return false }
            return ["bad_signature", "counter_gap"].contains(code)
        }
        #expect(try await ReplicaSnapshot(receiver) == before)
        // The unaltered page still merges.
        try await receiver.merge(SignedChanges(changes: page.changes, heads: page.heads), evidence: network.evidence)
    }

    @Test("an author without a certificate is unknown_device; a revoked one past its last counter is revoked_device")
    func uncertifiedAndRevokedRefused() async throws {
        let directory = TemporaryDirectory()
        let (page, author, receiver, network) = try await signedPage(directory)
        let signed = SignedChanges(changes: page.changes, heads: page.heads)
        await #expect(throws: ReplicaError.self) { try await receiver.merge(signed) }
        do {
            try await receiver.merge(signed)
        } catch {
            #expect(error.trustCode == "unknown_device")
        }
        let firstHead = try #require(page.heads.min { $0.counter < $1.counter })
        let revocation = DeviceRevocation.issue(
            replica: author.id, revokedAt: 2, lastCounters: [space: firstHead.counter], signedBy: network.server)
        do {
            try await receiver.merge(signed, evidence: DeviceEvidence(certificates: network.certificates, revocations: [revocation]))
            Issue.record("a revoked device's later changes merged")
        } catch {
            #expect(error.trustCode == "revoked_device")
        }
        // Its changes up to the revocation are kept.
        let early = page.changes.filter { $0.lastCounter <= firstHead.counter }
        try await receiver.merge(
            SignedChanges(changes: early, heads: page.heads),
            evidence: DeviceEvidence(certificates: network.certificates, revocations: [revocation]))
        #expect(try receiver.heldVectors()[space]?[author.id] == firstHead.counter)
    }

    @Test("before login nothing can be verified: noPinnedServerKey, nothing stored")
    func unpinnedReplicaRefuses() async throws {
        let directory = TemporaryDirectory()
        let (page, _, _, _) = try await signedPage(directory)
        let fresh = try Replica(path: directory.path("fresh.sqlite"))
        await #expect(throws: ReplicaError.noPinnedServerKey) {
            try await fresh.merge(SignedChanges(changes: page.changes, heads: page.heads))
        }
    }

    @Test("a run relayed by a third replica verifies there, with the heads the relay stored", arguments: [1, 3, 100_000])
    func relayedRunVerifies(limit: Int) async throws {
        let directory = TemporaryDirectory()
        let (_, author, relay, network) = try await signedPage(directory)
        var network2 = network
        let third = try Replica(path: directory.path("third.sqlite"))
        try await network2.login(third)
        try await signedSync(space, from: author, to: relay, evidence: network.evidence)
        try await relay.edit(in: space) { editor in _ = try editor.createSession(title: "Relay's own") }
        try await signedSync(space, from: relay, to: third, evidence: network2.evidence, limit: limit)
        #expect(try await state(third) == (try await state(relay)))
        #expect(try third.heldVectors()[space] == relay.heldVectors()[space])
    }

    @Test("random edits and random signed exchanges (relays, small pages) converge", arguments: 0..<12)
    func signedConvergence(seed: UInt64) async throws {
        let directory = TemporaryDirectory()
        var random = SplitMix64(seed: seed)
        var network = SignedNetwork()
        var replicas: [Replica] = []
        for index in 0..<3 {
            let replica = try Replica(path: directory.path("r\(index).sqlite"))
            try await network.login(replica)
            try await replica.addSpace(space)
            replicas.append(replica)
        }
        for _ in 0..<40 {
            let index = Int.random(in: 0..<replicas.count, using: &random)
            if Int.random(in: 0..<2, using: &random) == 0 {
                let opSeed = random.next()
                let count = Int.random(in: 1...3, using: &random)
                _ = try await replicas[index].edit(in: space) { editor in try RandomEdits.perform(&editor, seed: opSeed, count: count) }
            } else {
                let other = (index + Int.random(in: 1..<replicas.count, using: &random)) % replicas.count
                try await signedSync(
                    space, from: replicas[index], to: replicas[other], evidence: network.evidence,
                    limit: Int.random(in: 1...8, using: &random))
            }
        }
        for _ in 0..<2 {
            for from in replicas.indices {
                for to in replicas.indices where to != from {
                    try await signedSync(space, from: replicas[from], to: replicas[to], evidence: network.evidence, limit: 5)
                }
            }
        }
        let first = try await state(replicas[0])
        for replica in replicas.dropFirst() { #expect(try await state(replica) == first) }
    }

    @Test("a replica restored from a backup takes its own later changes back (checked with its own key) and signs on from there")
    func restoredReplicaTakesItsOwnChangesBack() async throws {
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        let replica = try Replica(path: directory.path("a.sqlite"))
        let peer = try Replica(path: directory.path("b.sqlite"))
        try await network.login(replica)
        try await network.login(peer)
        try await replica.addSpace(space)
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "Backed up") }
        let backupPath = directory.path("backup.sqlite")
        let backup = try DatabaseQueue(path: backupPath)
        try replica.database.backup(to: backup)
        try backup.close()
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "After the backup") }
        try await signedSync(space, from: replica, to: peer, evidence: network.evidence)

        let restored = try Replica(path: backupPath)
        #expect(restored.id == replica.id)
        try await restored.edit(in: space) { _ in }  // an empty edit signs nothing
        try await signedSync(space, from: peer, to: restored, evidence: network.evidence)
        #expect(try await state(restored) == (try await state(replica)))
        try await restored.edit(in: space) { editor in _ = try editor.createSession(title: "After the restore") }
        try await signedSync(space, from: restored, to: peer, evidence: network.evidence)
        #expect(try await state(restored) == (try await state(peer)))
    }

    @Test("an edit that throws signs nothing; the next one continues the chain")
    func failedEditSignsNothing() async throws {
        struct Stop: Error {}
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        let replica = try Replica(path: directory.path("a.sqlite"))
        let peer = try Replica(path: directory.path("b.sqlite"))
        try await network.login(replica)
        try await network.login(peer)
        try await replica.addSpace(space)
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "Kept") }
        await #expect(throws: Stop.self) {
            try await replica.edit(in: space) { editor in
                _ = try editor.createSession(title: "Dropped")
                throw Stop()
            }
        }
        try await replica.edit(in: space) { editor in _ = try editor.createSession(title: "Also kept") }
        let page = try replica.changes(in: space, missingFrom: VersionVector())
        #expect(page.heads.count == 2)
        try await signedSync(space, from: replica, to: peer, evidence: network.evidence)
        #expect(try await state(replica) == (try await state(peer)))
    }

    @Test("a very large transaction is signed every 1,000 changes, so pages cut at heads stay bounded")
    func largeTransactionsGetIntermediateHeads() async throws {
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        let replica = try Replica(path: directory.path("a.sqlite"))
        let peer = try Replica(path: directory.path("b.sqlite"))
        try await network.login(replica)
        try await network.login(peer)
        try await replica.addSpace(space)
        try await replica.edit(in: space) { editor in
            for index in 0..<900 { _ = try editor.createSession(title: "Session \(index)") }  // 2,700 changes
        }
        let whole = try replica.changes(in: space, missingFrom: VersionVector(), limit: 100_000)
        #expect(whole.heads.map(\.counter) == [1000, 2000, 2700])
        let first = try replica.changes(in: space, missingFrom: VersionVector(), limit: 10)
        #expect(first.changes.count == 1000)
        #expect(first.heads.map(\.counter) == [1000])
        #expect(try await signedSync(space, from: replica, to: peer, evidence: network.evidence, limit: 10) == 2700)
        #expect(try await state(replica) == (try await state(peer)))
    }
}
