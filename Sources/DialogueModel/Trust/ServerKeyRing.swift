import Foundation

/// The server keys a replica trusts: the one it pinned at login, and every key reachable
/// from it through valid ``ServerKeyEndorsement``s (a rotation: the old key endorses the new).
public struct ServerKeyRing: Hashable, Sendable, Codable {
    /// The key pinned at login.
    public let pinned: PublicSigningKey
    /// The endorsements adopted, each linking a trusted key to the next, in the order adopted.
    public private(set) var endorsements: [ServerKeyEndorsement]

    /// A ring trusting `pinned` only.
    public init(pinned: PublicSigningKey) {
        self.pinned = pinned
        self.endorsements = []
    }

    /// A ring trusting `pinned` and the keys the endorsements link to it.
    /// - Throws: as ``adopting(_:)``.
    public init(pinned: PublicSigningKey, endorsements: [ServerKeyEndorsement]) throws(TrustError) {
        self = try ServerKeyRing(pinned: pinned).adopting(endorsements)
    }

    /// The trusted keys, the pinned one first, then in endorsement order.
    public var keys: [PublicSigningKey] { [pinned] + endorsements.map(\.newKey) }

    /// The newest trusted key: the end of the endorsement chain.
    public var newestKey: PublicSigningKey { endorsements.last?.newKey ?? pinned }

    /// Whether `key` is the pinned key or reachable from it through the endorsements held.
    public func trusts(_ key: PublicSigningKey) -> Bool {
        key == pinned || endorsements.contains { $0.newKey == key }
    }

    /// Throws unless `key` is trusted.
    /// - Throws: ``TrustError/untrustedServerKey(presented:pinned:)``, naming both fingerprints.
    public func requireTrust(_ key: PublicSigningKey) throws(TrustError) {
        guard trusts(key) else { throw .untrustedServerKey(presented: key.fingerprint, pinned: pinned.fingerprint) }
    }

    /// The ring with `offered` endorsements adopted: those already held (or endorsing a
    /// key already trusted) are ignored; each other must be signed by a key trusted by the
    /// ring or by an endorsement adopted before it (in any order offered).
    /// - Throws: ``TrustError/badSignature(replica:counter:reason:)`` for an endorsement
    ///   whose signature does not verify, ``TrustError/untrustedServerKey(presented:pinned:)``
    ///   for one that no chain links to the pinned key (naming the newest key it leads to).
    ///   Nothing is adopted then.
    public func adopting(_ offered: [ServerKeyEndorsement]) throws(TrustError) -> ServerKeyRing {
        var ring = self
        var pending = offered
        for endorsement in pending { try endorsement.verify() }
        // Repeated passes, so that a chain offered newest first still links up.
        while !pending.isEmpty {
            let before = pending.count
            pending.removeAll { endorsement in
                if ring.trusts(endorsement.newKey) { return true }
                guard ring.trusts(endorsement.previousKey) else { return false }
                ring.endorsements.append(endorsement)
                return true
            }
            if pending.count == before {
                // Name the key the unlinked endorsements lead to: the one the server now uses.
                let unlinked = pending.first { candidate in !pending.contains { $0.previousKey == candidate.newKey } } ?? pending[0]
                throw .untrustedServerKey(presented: unlinked.newKey.fingerprint, pinned: pinned.fingerprint)
            }
        }
        return ring
    }

    private enum CodingKeys: String, CodingKey { case pinned, endorsements }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let pinned = try container.decode(PublicSigningKey.self, forKey: .pinned)
        let endorsements = try container.decode([ServerKeyEndorsement].self, forKey: .endorsements)
        self = try ServerKeyRing(pinned: pinned, endorsements: endorsements)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pinned, forKey: .pinned)
        try container.encode(endorsements, forKey: .endorsements)
    }
}
