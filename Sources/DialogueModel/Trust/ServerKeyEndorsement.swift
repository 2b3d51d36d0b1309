import Foundation

/// A retiring server key's word that a new key speaks for the server from now on
/// (tag `dialogue/server-key-endorsement/1`, signed by ``previousKey``). Replicas pinned
/// to the old key follow these to the new one.
public struct ServerKeyEndorsement: Hashable, Sendable, Codable {
    public static let tag = "dialogue/server-key-endorsement/1"

    public var newKey: PublicSigningKey
    public var previousKey: PublicSigningKey
    /// Milliseconds since 1970.
    public var issuedAt: Int64
    /// Ed25519 signature of ``canonicalBytes`` by ``previousKey``.
    public var signature: [UInt8]

    public init(newKey: PublicSigningKey, previousKey: PublicSigningKey, issuedAt: Int64, signature: [UInt8]) {
        self.newKey = newKey
        self.previousKey = previousKey
        self.issuedAt = issuedAt
        self.signature = signature
    }

    /// `previous` endorses `newKey`.
    public static func issue(
        newKey: PublicSigningKey, issuedAt: Int64, signedBy previous: SigningKeyPair
    )
        -> ServerKeyEndorsement
    {
        var endorsement = ServerKeyEndorsement(
            newKey: newKey, previousKey: previous.publicKey, issuedAt: issuedAt, signature: [])
        endorsement.signature = previous.sign(endorsement.canonicalBytes)
        return endorsement
    }

    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter.statement(Self.tag)
        writer.key(newKey)
        writer.key(previousKey)
        writer.time(issuedAt)
        return writer.bytes
    }

    /// Checks the signature by ``previousKey`` (whether that key is trusted is
    /// ``ServerKeyRing``'s business).
    public func verify() throws(TrustError) {
        guard previousKey.isValidSignature(signature, for: canonicalBytes) else {
            throw .badSignature(
                replica: nil, counter: nil,
                reason: "the endorsement of server key \(newKey.fingerprint) does not verify under \(previousKey.fingerprint)")
        }
    }

    private enum CodingKeys: String, CodingKey { case newKey, previousKey, issuedAt, signature }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        newKey = try container.decode(PublicSigningKey.self, forKey: .newKey)
        previousKey = try container.decode(PublicSigningKey.self, forKey: .previousKey)
        issuedAt = try container.decode(Int64.self, forKey: .issuedAt)
        signature = try container.decodeBase64(forKey: .signature, count: 64)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(newKey, forKey: .newKey)
        try container.encode(previousKey, forKey: .previousKey)
        try container.encode(issuedAt, forKey: .issuedAt)
        try container.encodeBase64(signature, forKey: .signature)
    }
}
