import DialogueModel
import DialogueSync
import Foundation

/// The server verifies every push (docs/TRUST.md, "Verification"): a run of replica R's
/// changes is stored only if it extends what the server holds of R and ends at a head
/// signed by R's certified key, R not revoked before it. The same check whoever pushes
/// it: a run relayed by another member's device (from a bundle) verifies the same way.
extension SyncService {
    /// The refusals of `new` (a space's changes the server lacks, in causal order) under
    /// the server's own keys, its device certificates and revocations; empty when every
    /// author's run verifies. Runs before anything touches the space's document, so a
    /// refusal costs the size of the push.
    /// `members` gets the certified member of each author whose run verified, for the
    /// authorship check (``AuthorshipRule``) made against the space's document.
    func verifySignatures(
        _ new: [Change], heads: [ChainHead], in space: SpaceID, verifier: inout ChainVerifier,
        members: inout [ReplicaID: UUID]
    ) async throws -> [Rejection] {
        var runs: [ReplicaID: [Change]] = [:]
        var authors: [ReplicaID] = []
        for change in new {
            if runs[change.replica] == nil { authors.append(change.replica) }
            runs[change.replica, default: []].append(change)
        }
        guard !authors.isEmpty else { return [] }
        let certificates = try await statements.certificates(of: authors, store: store)
        let revocations = try await statements.revocations(of: authors, store: store)
        let positions = try await heldChains(of: authors, in: space)
        var rejected: [Rejection] = []
        for author in authors {
            let run = runs[author]!
            do {
                _ = try verifier.verify(
                    run, extending: positions[author]!, heads: heads, certificate: certificates[author], revocation: revocations[author])
                members[author] = certificates[author]?.member
            } catch {
                rejected.append(Self.rejection(error, of: run))
            }
        }
        return rejected
    }

    /// Where the server stands in each author's chain: its last stored head, advanced over
    /// any changes stored after it without one (stored before signing: docs/TRUST.md,
    /// "Migration"), so a device's first signed run after them verifies.
    private func heldChains(of authors: [ReplicaID], in space: SpaceID) async throws -> [ReplicaID: DeviceChain] {
        let vector = try await store.vector(of: space)
        let latest = try await store.latestChainHeads(in: space, of: authors)
        var chains: [ReplicaID: DeviceChain] = [:]
        for author in authors {
            var chain =
                latest[author].map { DeviceChain(space: space, replica: author, counter: $0.counter, hash: $0.hash) }
                ?? DeviceChain(space: space, replica: author)
            if vector[author] > chain.counter {
                let unsigned = try await store.storedChanges(in: space, replica: author, counters: (chain.counter + 1)...vector[author])
                do { try chain.advance(over: unsigned) } catch {
                    throw StoreError.unavailable("the stored changes of \(author) in space \(space) do not form a chain: \(error)")
                }
            }
            chains[author] = chain
        }
        return chains
    }

    /// A verifier's refusal as the rejection of the change it concerns (the run's first
    /// when it names none), with the code the protocol documents.
    static func rejection(_ error: TrustError, of run: [Change]) -> Rejection {
        let code: RejectionCode =
            switch error {
            case .unknownDevice, .untrustedServerKey: .unknownDevice
            case .revokedDevice: .revokedDevice
            case .counterGap: .counterGap
            default: .badSignature
            }
        var id = run[0].id
        if case .badSignature(_, let counter?, _) = error,
            let change = run.first(where: { $0.id.counter <= counter && counter <= $0.lastCounter })
        {
            id = change.id
        }
        return Rejection(id: id, code: code, reason: error.description)
    }
}
