import DialogueModel
import Foundation
import GRDB

/// What a sync answer carries beside the changes (protocol 2): stored in the trust cache
/// only when it verifies against the pinned ring.
extension Replica {
    /// Adopts the server's key endorsements and stores the member's space and people
    /// directories and the certificates and revocations of other devices, in one transaction, after verifying
    /// every one against the pinned ring (with the endorsements adopted). Nothing is stored
    /// when one does not verify (``ReplicaError/storage(_:underlying:)`` naming it), or when no key is
    /// pinned yet (before the first `login` there is nothing to verify against).
    /// - Returns: whether anything was stored (`false` before the first login).
    @discardableResult
    package func adoptSyncStatements(
        directory: SpaceDirectory?, endorsements: [ServerKeyEndorsement], certificates: [DeviceCertificate],
        revocations: [DeviceRevocation], people: PeopleDirectory? = nil
    ) throws(ReplicaError) -> Bool {
        let now = Int64(bitPattern: clock.wall.millisecondsSinceEpoch())
        let ownMember = try deviceCertificate()?.member
        return try write { db in
            guard let held = try TrustCache.ring(db) else { return false }
            let ring: ServerKeyRing
            do {
                ring = try Self.verify(
                    held: held, directory: directory, endorsements: endorsements, certificates: certificates, revocations: revocations,
                    people: people, member: ownMember)
            } catch {
                throw ReplicaError.storage("refused the server's signed statements: \(error)", underlying: error)
            }
            try TrustCache.store(ring, now: now, db)
            if let directory { try TrustCache.store(directory, db) }
            if let people { try TrustCache.store(people, db) }
            for certificate in certificates where certificate.replica != id { try TrustCache.store(certificate, db) }
            for revocation in revocations { try TrustCache.store(revocation, db) }
            return true
        }
    }

    /// The ring `held` with `endorsements` adopted, once every statement verifies under it
    /// and the directories are `member`'s (when known).
    package static func verify(
        held: ServerKeyRing, directory: SpaceDirectory?, endorsements: [ServerKeyEndorsement], certificates: [DeviceCertificate],
        revocations: [DeviceRevocation], people: PeopleDirectory? = nil, member: UUID?
    ) throws(TrustError) -> ServerKeyRing {
        let ring = try held.adopting(endorsements)
        if let directory {
            try directory.verify(trusting: ring)
            if let member, directory.member != member {
                throw .badSignature(
                    replica: nil, counter: nil,
                    reason: "the space directory is of member \(directory.member), not of this device's member \(member)")
            }
        }
        if let people {
            try people.verify(trusting: ring)
            if let member, people.member != member {
                throw .badSignature(
                    replica: nil, counter: nil,
                    reason: "the people directory is of member \(people.member), not of this device's member \(member)")
            }
        }
        for certificate in certificates { try certificate.verify(trusting: ring) }
        for revocation in revocations { try revocation.verify(trusting: ring) }
        return ring
    }
}
