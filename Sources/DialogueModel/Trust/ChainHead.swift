import Foundation

/// A device's signature over its chain of changes in a space up to a counter
/// (tag `dialogue/chain-head/1`, signed by the device's key): one per local transaction.
/// Verifying it vouches for every change of the chain up to ``counter``.
public struct ChainHead: Hashable, Sendable, Codable {
    public static let tag = "dialogue/chain-head/1"

    public var space: SpaceID
    public var replica: ReplicaID
    /// The last counter of the transaction signed.
    public var counter: UInt64
    /// The chain hash after the change ending at ``counter`` (32 bytes; see ``DeviceChain``).
    public var hash: [UInt8]
    /// Ed25519 signature of ``canonicalBytes`` by the device's key.
    public var signature: [UInt8]

    public init(space: SpaceID, replica: ReplicaID, counter: UInt64, hash: [UInt8], signature: [UInt8]) {
        self.space = space
        self.replica = replica
        self.counter = counter
        self.hash = hash
        self.signature = signature
    }

    /// A head signed by the device's key.
    public static func issue(
        space: SpaceID, replica: ReplicaID, counter: UInt64, hash: [UInt8], signedBy deviceKey: SigningKeyPair
    ) -> ChainHead {
        var head = ChainHead(space: space, replica: replica, counter: counter, hash: hash, signature: [])
        head.signature = deviceKey.sign(head.canonicalBytes)
        return head
    }

    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter.statement(Self.tag)
        writer.uuid(space.uuid)
        writer.replica(replica)
        writer.varint(counter)
        writer.raw(hash)
        return writer.bytes
    }

    /// Checks the signature under `key` (the device's certified key).
    public func verify(signedBy key: PublicSigningKey) throws(TrustError) {
        guard hash.count == 32, key.isValidSignature(signature, for: canonicalBytes) else {
            throw .badSignature(
                replica: replica, counter: counter,
                reason: "the chain head in space \(space) does not verify under the device key \(key.fingerprint)")
        }
    }

    /// Checks that `certificate` is the head's replica's and that its key signed the head
    /// (whether the certificate itself is trusted is checked with ``DeviceCertificate/verify(trusting:)``).
    public func verify(certifiedBy certificate: DeviceCertificate) throws(TrustError) {
        guard certificate.replica == replica else {
            throw .badSignature(
                replica: replica, counter: counter,
                reason: "the chain head is checked against the certificate of another device, \(certificate.replica)")
        }
        try verify(signedBy: certificate.publicKey)
    }

    private enum CodingKeys: String, CodingKey { case space, replica, counter, hash, signature }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        space = try container.decode(SpaceID.self, forKey: .space)
        replica = try container.decode(ReplicaID.self, forKey: .replica)
        counter = try container.decode(UInt64.self, forKey: .counter)
        hash = try container.decodeBase64(forKey: .hash, count: 32)
        signature = try container.decodeBase64(forKey: .signature, count: 64)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(space, forKey: .space)
        try container.encode(replica, forKey: .replica)
        try container.encode(counter, forKey: .counter)
        try container.encodeBase64(hash, forKey: .hash)
        try container.encodeBase64(signature, forKey: .signature)
    }
}
