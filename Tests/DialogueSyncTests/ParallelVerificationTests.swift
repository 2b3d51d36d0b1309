import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueSync

/// Signing and verification spread over cores (docs/TRUST.md, "Costs"): a large local
/// transaction signed on another core, a large batch's digests computed on every core, a
/// bundle's on the reading thread. The verdicts must be exactly those of one core.
@Suite("Signing and verification on several cores: the same outcome as on one")
struct ParallelVerificationTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000a11e1")!)

    /// An author (logged in by `login`) with a session and `transactions` signed
    /// transactions of `size` changes each.
    func author(
        _ directory: TemporaryDirectory, login: (Replica) async throws -> Void, transactions: Int, size: Int
    ) async throws -> (Replica, EntityID) {
        let replica = try Replica(path: directory.path("author.sqlite"))
        try await login(replica)
        try await replica.addSpace(space)
        let session = try await replica.edit(in: space) { editor in try editor.createSession(title: "Planning") }
        for transaction in 0..<transactions {
            try await replica.edit(in: space) { editor in
                for index in 0..<size {
                    try editor.set(DialogueSession.Field.focus, of: session, to: .string("focus \(transaction)-\(index)"))
                }
            }
        }
        return (replica, session)
    }

    /// The author's whole log with one change in the middle altered (its text, keeping the
    /// change well formed): what a tampering relay would offer.
    func alteredLog(of author: Replica) throws -> (page: SignedChanges, altered: Dot) {
        let page = try author.changes(in: space, missingFrom: VersionVector(), limit: 100_000)
        var changes = page.changes
        let middle = changes.count / 2
        guard case .set(_, let predecessors) = changes[middle].operation else {
            throw ReplicaError.invalidValue("expected a field write in the middle of the log")
        }
        changes[middle].operation = .set(.string("altered"), predecessors: predecessors)
        return (SignedChanges(changes: changes, heads: page.heads), changes[middle].id)
    }

    @Test("a transaction large enough to be signed on another core stores the heads signing inline would, and its log verifies")
    func transactionSignedAside() async throws {
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        // The first edit (the session) signs inline; the next, of `changesSignedAside` changes,
        // aside, with a head every `changesPerHead` changes and one at its end; then one of
        // 1,500 changes inline (a head at 1,000 and one at its end).
        let (author, session) = try await author(
            directory, login: { try await network.login($0) }, transactions: 1, size: Replica.changesSignedAside)
        try await author.edit(in: space) { editor in
            for index in 0..<1500 {
                try editor.set(DialogueSession.Field.status, of: session, to: .string(["planned", "held"][index % 2]))
            }
        }
        let page = try author.changes(in: space, missingFrom: VersionVector(), limit: 100_000)
        let counters = page.heads.map(\.counter).sorted()
        func heads(_ changes: Int) -> Int { (changes + Replica.changesPerHead - 1) / Replica.changesPerHead }
        #expect(
            counters.count == 1 + heads(Replica.changesSignedAside) + heads(1500), "one head per transaction, and one every 1,000 changes")
        #expect(zip(counters, counters.dropFirst()).allSatisfy { $1 - $0 <= UInt64(Replica.changesPerHead) })
        #expect(counters.last == page.changes.last?.lastCounter)
        // Inline signing from the same start gives the same heads (Ed25519 is deterministic).
        var inline = DeviceChain(space: space, replica: author.id)
        var expected: [ChainHead] = []
        var start = 0
        for head in counters {
            let end = page.changes.firstIndex { $0.lastCounter == head }! + 1
            let signed = try TransactionSigning.sign(Array(page.changes[start..<end]), from: inline, key: author.deviceKey)
            inline = signed.chain
            expected += signed.heads
            start = end
        }
        #expect(Set(page.heads) == Set(expected))
        let other = try Replica(path: directory.path("other.sqlite"))
        try await network.login(other)
        try await other.merge(SignedChanges(changes: page.changes, heads: page.heads), evidence: network.evidence)
        #expect(
            try #require(await other.document(space)).canonicalExport() == (try #require(await author.document(space)).canonicalExport()))
    }

    @Test(
        "a large batch with one change altered in the middle: refused as bad_signature, as the one-core verifier refuses it, nothing stored"
    )
    func alteredChangeInALargeBatch() async throws {
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        let (author, _) = try await author(directory, login: { try await network.login($0) }, transactions: 30, size: 100)
        let (altered, _) = try alteredLog(of: author)
        // The batch is large enough to be hashed on every core (where there are several).
        let digests = ParallelDigests.of(altered.changes)
        #expect(ProcessInfo.processInfo.activeProcessorCount < 2 || digests != nil)
        if let digests { #expect(digests == ChangeDigest.of(altered.changes), "the same digests as one core") }

        // The one-core verdict, and the verdict with digests computed ahead.
        let certificate = try #require(network.certificates.first { $0.replica == author.id })
        func verdict(digests: [ChangeDigest]?) -> TrustError? {
            var verifier = ChainVerifier(ring: ServerKeyRing(pinned: network.server.publicKey))
            let result = Result { () throws(TrustError) in
                try verifier.verify(
                    altered.changes, extending: DeviceChain(space: space, replica: author.id), heads: altered.heads,
                    certificate: certificate, revocation: nil, digests: digests)
            }
            if case .failure(let error) = result { return error }
            return nil
        }
        let refusal = try #require(verdict(digests: nil))
        #expect(refusal.code == "bad_signature", "\(refusal)")
        #expect(verdict(digests: ChangeDigest.of(altered.changes)) == refusal)

        // The replica's merge (digests on every core) refuses with that same error, storing nothing.
        let other = try Replica(path: directory.path("other.sqlite"))
        try await network.login(other)
        let before = try await ReplicaSnapshot(other)
        var merged: ReplicaError?
        do {
            try await other.merge(altered, evidence: network.evidence)
        } catch {
            merged = error
        }
        #expect(merged == .unverifiedChanges(refusal), "\(String(describing: merged))")
        #expect(try await ReplicaSnapshot(other) == before, "a refused batch changed the replica")
    }

    @Test(
        "a bundle with one change altered in the middle of a large run: refused as bad_signature on import (digests on the reading thread), nothing stored"
    )
    func alteredChangeInABundle() async throws {
        let directory = TemporaryDirectory()
        let trust = BundleTrust()
        let (author, _) = try await author(
            directory, login: { try await trust.login($0, shared: [self.space]) }, transactions: 60, size: 100)
        let url = directory.url.appendingPathComponent("log.dlgb")
        _ = try author.exportBundle(to: url, spaces: [space])
        // Rewrite it well formed with one change in the middle of the log altered.
        var reader = try BundleReader(url: url)
        var frames: [BundleFrame] = []
        while let frame = try reader.nextFrame() { frames.append(frame) }
        #expect(frames.count >= 2, "the log spans frames")
        let total = frames.reduce(0) { $0 + $1.changes.count }
        var position = total / 2
        let frameIndex = frames.firstIndex { frame in
            if position < frame.changes.count { return true }
            position -= frame.changes.count
            return false
        }!
        guard case .set(_, let predecessors) = frames[frameIndex].changes[position].operation else {
            throw ReplicaError.invalidValue("expected a field write in the middle of the log")
        }
        frames[frameIndex].changes[position].operation = .set(.string("altered"), predecessors: predecessors)
        let tampered = directory.url.appendingPathComponent("tampered.dlgb")
        var writer = try BundleWriter(to: tampered, header: reader.header)
        for frame in frames { try writer.write(frame.changes, heads: frame.heads) }
        try writer.finish()

        let other = try Replica(path: directory.path("other.sqlite"))
        try await trust.login(other, shared: [space])
        let before = try await ReplicaSnapshot(other)
        do {
            try await other.importBundle(from: tampered)
            Issue.record("the altered bundle was imported")
        } catch {
            #expect(error.trustCode == "bad_signature", "\(error)")
        }
        #expect(try await ReplicaSnapshot(other) == before, "a refused bundle changed the replica")
        // The bundle as exported imports whole.
        let report = try await other.importBundle(from: url)
        #expect(report.applied == total)
    }
}
