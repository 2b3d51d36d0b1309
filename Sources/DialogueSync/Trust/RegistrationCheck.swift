import DialogueModel
import Foundation

/// A registration answer that verified: the ring to store, and what it vouches for.
struct VerifiedRegistration: Sendable {
    var ring: ServerKeyRing
    var certificate: DeviceCertificate
    var directory: SpaceDirectory
    /// The ring starts a new trust (the first login, or a deliberate key replacement):
    /// whatever was learnt under an earlier pin is forgotten when it is stored.
    var startsNewPin: Bool
}

extension DeviceRegistrationResponse {
    /// Verifies the answer for the device (`replica`, `key`), against the ring the replica
    /// holds (`pinned`, `nil` before its first login):
    ///
    /// - the server's key must be trusted: on first use it is pinned (trust on first use, as
    ///   ssh); later it must be the pinned key or one its endorsements lead to, else
    ///   ``SyncClientError/serverKeyChanged(server:presented:pinned:)``, unless `replacing`
    ///   names exactly its fingerprint (a deliberate replacement);
    /// - every endorsement must verify and link to the ring;
    /// - the certificate must be for this replica id and this key, and the directory for the
    ///   certificate's member, both signed by a trusted key.
    func verified(
        for replica: ReplicaID, key: PublicSigningKey, pinned: ServerKeyRing?, replacing: String?, server: String
    ) throws(SyncClientError) -> VerifiedRegistration {
        guard fingerprint == serverKey.fingerprint else {
            throw .unverifiedAnswer(
                "the answer gives fingerprint \(fingerprint) for a server key whose fingerprint is \(serverKey.fingerprint)")
        }
        if let replacing, replacing != serverKey.fingerprint {
            throw .replacementKeyMismatch(given: replacing, presented: serverKey.fingerprint)
        }
        let ring: ServerKeyRing
        var startsNewPin = false
        if let pinned, replacing == nil || pinned.trusts(serverKey) {
            // Follow the endorsements from what is pinned; the server's key must be reached.
            guard let extended = try? pinned.adopting(endorsements), extended.trusts(serverKey) else {
                throw .serverKeyChanged(server: server, presented: serverKey.fingerprint, pinned: pinned.newestKey.fingerprint)
            }
            ring = extended
        } else {
            ring = try Self.firstRing(presented: serverKey, endorsements: endorsements)
            startsNewPin = true
        }
        guard certificate.replica == replica else {
            throw .unverifiedAnswer("the certificate is for replica \(certificate.replica), not this replica (\(replica))")
        }
        guard certificate.publicKey == key else {
            throw .unverifiedAnswer(
                "the certificate is for device key \(certificate.publicKey.fingerprint), not this replica's key \(key.fingerprint)")
        }
        guard directory.member == certificate.member else {
            throw .unverifiedAnswer("the space directory is for another member than the certificate")
        }
        do {
            try certificate.verify(trusting: ring)
            try directory.verify(trusting: ring)
        } catch {
            throw .unverifiedAnswer("\(error)")
        }
        return VerifiedRegistration(ring: ring, certificate: certificate, directory: directory, startsNewPin: startsNewPin)
    }

    /// The ring a replica starts with: rooted at the oldest key the endorsements lead back
    /// to from `presented`, so that certificates the server signed before its rotations
    /// (still valid: docs/TRUST.md) verify too. Trusting that history is trusting the server
    /// on first use, as pinning `presented` alone would be.
    static func firstRing(
        presented: PublicSigningKey, endorsements: [ServerKeyEndorsement]
    ) throws(SyncClientError)
        -> ServerKeyRing
    {
        var root = presented
        var seen: Set<PublicSigningKey> = [presented]
        while let link = endorsements.first(where: { $0.newKey == root }), seen.insert(link.previousKey).inserted {
            root = link.previousKey
        }
        do {
            let ring = try ServerKeyRing(pinned: root, endorsements: endorsements)
            guard ring.trusts(presented) else {
                throw TrustError.untrustedServerKey(presented: presented.fingerprint, pinned: root.fingerprint)
            }
            return ring
        } catch {
            throw .unverifiedAnswer("the server's key endorsements do not verify: \(error)")
        }
    }
}
