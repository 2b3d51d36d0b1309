import DialogueModel
import Foundation

extension SyncClient {
    /// Verifies the signed statements of a sync answer (the space directory, the server's
    /// key endorsements, the certificates and revocations of the page's authors) against
    /// the replica's pinned ring and stores them in its trust cache. One that does not
    /// verify is refused loudly (``SyncClientError/unverifiedAnswer(_:)``) and nothing of
    /// the answer is stored or merged. Before the first `login` nothing is pinned, so
    /// nothing can be verified or stored.
    func adoptStatements(
        of response: SyncResponse, _ result: SyncResponse.SpaceResult, into replica: Replica
    ) async throws(SyncClientError) {
        let held: ServerKeyRing?
        let member: UUID?
        do {
            held = try replica.serverKeyRing()
            member = try replica.deviceCertificate()?.member
        } catch { throw .local(error) }
        guard let held else { return }
        do {
            _ = try Replica.verify(
                held: held, directory: response.directory, endorsements: response.endorsements, certificates: result.certificates,
                revocations: result.revocations, member: member)
        } catch {
            throw .unverifiedAnswer("\(error) (pinned server key \(held.pinned.fingerprint))")
        }
        do {
            try await replica.adoptSyncStatements(
                directory: response.directory, endorsements: response.endorsements, certificates: result.certificates,
                revocations: result.revocations)
        } catch { throw .local(error) }
    }
}

extension SyncClient {
    /// Merges a page received: through the verifying merge once the replica has pinned its
    /// server's key (every author's run must verify; a refusal is
    /// ``SyncClientError/unverifiedAnswer(_:)`` and nothing is stored). Before the first
    /// `login` nothing can be verified, and the page merges as before signing existed.
    func merge(
        _ received: [Change], heads: [ChainHead], _ result: SyncResponse.SpaceResult, into replica: Replica
    ) async throws(SyncClientError) {
        do {
            guard try replica.serverKeyRing() != nil else {
                try await replica.merge(received)
                return
            }
            try await replica.merge(
                SignedChanges(changes: received, heads: heads),
                evidence: DeviceEvidence(certificates: result.certificates, revocations: result.revocations))
        } catch .unverifiedChanges(let error) {
            throw .unverifiedAnswer("\(error.code): \(error)")
        } catch {
            throw .local(error)
        }
    }
}
