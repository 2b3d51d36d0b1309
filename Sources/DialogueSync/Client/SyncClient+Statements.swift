import DialogueModel
import Foundation

extension SyncClient {
    /// Verifies the signed statements of a sync answer (the space directory, the server's
    /// key endorsements, the certificates and revocations of the page's authors) against
    /// the replica's pinned ring and stores them in its trust cache. One that does not
    /// verify is refused loudly (``SyncClientError/unverifiedAnswer(_:)``) and nothing of
    /// the answer is stored or merged. Sync needs a login: without a pinned key this is
    /// ``SyncClientError/notLoggedIn(_:)``.
    func adoptStatements(
        of response: SyncResponse, _ result: SyncResponse.SpaceResult, into replica: Replica
    ) async throws(SyncClientError) {
        let held: ServerKeyRing?
        let member: UUID?
        do {
            held = try replica.serverKeyRing()
            member = try replica.deviceCertificate()?.member
        } catch { throw .local(error) }
        guard let held else { throw .notLoggedIn(replica.id) }
        do {
            _ = try Replica.verify(
                held: held, directory: response.directory, endorsements: response.endorsements, certificates: result.certificates,
                revocations: result.revocations, people: response.people, member: member)
        } catch {
            throw .unverifiedAnswer("\(error) (pinned server key \(held.pinned.fingerprint))")
        }
        do {
            try await replica.adoptSyncStatements(
                directory: response.directory, endorsements: response.endorsements, certificates: result.certificates,
                revocations: result.revocations, people: response.people)
        } catch { throw .local(error) }
    }
}

extension SyncClient {
    /// Merges a page received through the verifying merge: every author's run must verify
    /// under the pinned server key (a refusal is ``SyncClientError/unverifiedAnswer(_:)`` and
    /// nothing is stored). Sync needs a login, so a key is always pinned here.
    func merge(
        _ received: [Change], heads: [ChainHead], _ result: SyncResponse.SpaceResult, into replica: Replica
    ) async throws(SyncClientError) {
        do {
            try await replica.merge(
                SignedChanges(changes: received, heads: heads),
                evidence: DeviceEvidence(certificates: result.certificates, revocations: result.revocations), fromOwnServer: true)
        } catch let error where error.code == .unverifiedChanges {
            throw .unverifiedAnswer("\(error.trustCode ?? error.code.rawValue): \(error.underlying.map { "\($0)" } ?? error.message)")
        } catch {
            throw .local(error)
        }
    }
}
