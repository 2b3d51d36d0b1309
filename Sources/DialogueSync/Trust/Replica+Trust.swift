import DialogueModel
import Foundation
import GRDB

/// The replica's trust cache, read: what its server certified, verified before it was stored.
extension Replica {
    /// The server keys this replica trusts: the one pinned at its first `login` (or replaced
    /// deliberately) and those its endorsements link to it; `nil` before the first login.
    /// `ServerKeyRing/newestKey` is the server's current key as of the last login.
    public nonisolated func serverKeyRing() throws(ReplicaError) -> ServerKeyRing? {
        try readTrust { db in try TrustCache.ring(db) }
    }

    /// This device's certificate: its replica id and key, bound by the server to a member of
    /// a school (names included); `nil` before the first login.
    public nonisolated func deviceCertificate() throws(ReplicaError) -> DeviceCertificate? {
        try certificate(of: id)
    }

    /// The certificate held for a device (this one, or one that wrote in this replica's
    /// spaces), or `nil` when none is held.
    public nonisolated func certificate(of replica: ReplicaID) throws(ReplicaError) -> DeviceCertificate? {
        try readTrust { db in try TrustCache.certificate(of: replica, db) }
    }

    /// Every device certificate held (this device's included), by replica id.
    public nonisolated func certificates() throws(ReplicaError) -> [DeviceCertificate] {
        try readTrust { db in try TrustCache.certificates(db) }
    }

    /// The `issuedAt` of each device certificate held, by device (what a sync request lists
    /// as `certified`, so the server leaves those certificates out of its answer).
    public nonisolated func certificatesHeld() throws(ReplicaError) -> [ReplicaID: Int64] {
        try readTrust { db in try TrustCache.certificatesHeld(db) }
    }

    /// The revocations held, by replica id.
    public nonisolated func revocations() throws(ReplicaError) -> [DeviceRevocation] {
        try readTrust { db in try TrustCache.revocations(db) }
    }

    /// The space directory of this device's member (the spaces it may hold, with their
    /// names and kinds), as of the last login or sync; `nil` before the first login.
    public nonisolated func spaceDirectory() throws(ReplicaError) -> SpaceDirectory? {
        try readTrust { db in try TrustCache.directory(db) }
    }

    /// The schools and members this device's member may see named (their school and its
    /// partner schools), as of the last sync; `nil` before the first sync with a server
    /// that sends one.
    public nonisolated func peopleDirectory() throws(ReplicaError) -> PeopleDirectory? {
        try readTrust { db in try TrustCache.people(db) }
    }

    private nonisolated func readTrust<T>(_ body: (Database) throws -> T) throws(ReplicaError) -> T {
        do { return try database.read(body) } catch let error as ReplicaError { throw error } catch {
            throw .storage("cannot read the trust cache: \(error)", underlying: error)
        }
    }
}

/// The replica's trust cache, written: nothing is stored that does not verify against the ring.
extension Replica {
    /// Stores a verified registration in one transaction: the ring (a new pin when
    /// `registration.startsNewPin`, forgetting what was learnt under the old one), this
    /// device's certificate and the space directory. Verified again here, against the ring
    /// it will be stored with, so nothing reaches the cache unverified whoever calls this.
    func adopt(_ registration: VerifiedRegistration) throws(ReplicaError) {
        let ring = registration.ring
        do {
            try registration.certificate.verify(trusting: ring)
            try registration.directory.verify(trusting: ring)
        } catch { throw .storage("refusing to store a registration that does not verify: \(error)", underlying: error) }
        guard registration.certificate.replica == id, registration.certificate.publicKey == devicePublicKey else {
            throw .storage("refusing to store a certificate of another device")
        }
        let now = Int64(bitPattern: clock.wall.millisecondsSinceEpoch())
        try write { db in
            let stored = try TrustCache.ring(db)
            if registration.startsNewPin {
                try TrustCache.clear(db)
            } else if let stored, stored.pinned != ring.pinned || !ring.keys.starts(with: stored.keys) {
                // Another login changed the pin meanwhile: this ring was not built on it.
                throw ReplicaError.storage("the pinned server key changed during the login; log in again")
            }
            try TrustCache.store(ring, now: now, db)
            try TrustCache.store(registration.certificate, db)
            try TrustCache.store(registration.directory, db)
        }
        certifiedMember = EntityID(registration.certificate.member)
    }

    /// Stores certificates of other devices (delivered with a sync or a bundle) that verify
    /// against the ring held; refuses them all, storing nothing, if one does not.
    package func storeCertificates(_ certificates: [DeviceCertificate]) throws(ReplicaError) {
        try storeVerified(certificates) { ring, certificate throws(TrustError) in
            try certificate.verify(trusting: ring)
        } store: {
            try TrustCache.store($0, $1)
        }
    }

    /// Stores revocations that verify against the ring held; refuses them all if one does not.
    package func storeRevocations(_ revocations: [DeviceRevocation]) throws(ReplicaError) {
        try storeVerified(revocations) { ring, revocation throws(TrustError) in
            try revocation.verify(trusting: ring)
        } store: {
            try TrustCache.store($0, $1)
        }
    }

    private func storeVerified<S>(
        _ statements: [S], verify: (ServerKeyRing, S) throws(TrustError) -> Void, store: (S, Database) throws -> Void
    ) throws(ReplicaError) {
        guard !statements.isEmpty else { return }
        try write { db in
            guard let ring = try TrustCache.ring(db) else {
                throw ReplicaError.storage("cannot check signed statements before the first login pins the server's key")
            }
            for statement in statements {
                do { try verify(ring, statement) } catch {
                    throw ReplicaError.storage("refused a signed statement: \(error)", underlying: error)
                }
            }
            for statement in statements { try store(statement, db) }
        }
    }
}
