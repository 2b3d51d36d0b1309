import Foundation

/// The server's word that a device was revoked, and the last counter it accepted from
/// it in each space (tag `dialogue/device-revocation/1`, signed by the server's key).
/// The device's changes up to those counters stay valid; later ones are refused.
public struct DeviceRevocation: Hashable, Sendable, Codable {
    public static let tag = "dialogue/device-revocation/1"

    public var replica: ReplicaID
    /// Milliseconds since 1970.
    public var revokedAt: Int64
    /// Per space, the last counter accepted from the device (a space absent: nothing accepted, 0).
    public var lastCounters: [SpaceID: UInt64]
    public var signer: PublicSigningKey
    public var signature: [UInt8]

    public init(
        replica: ReplicaID, revokedAt: Int64, lastCounters: [SpaceID: UInt64], signer: PublicSigningKey,
        signature: [UInt8]
    ) {
        self.replica = replica
        self.revokedAt = revokedAt
        self.lastCounters = lastCounters
        self.signer = signer
        self.signature = signature
    }

    /// A revocation signed by `serverKey`.
    public static func issue(
        replica: ReplicaID, revokedAt: Int64, lastCounters: [SpaceID: UInt64], signedBy serverKey: SigningKeyPair
    ) -> DeviceRevocation {
        var revocation = DeviceRevocation(
            replica: replica, revokedAt: revokedAt, lastCounters: lastCounters, signer: serverKey.publicKey,
            signature: [])
        revocation.signature = serverKey.sign(revocation.canonicalBytes)
        return revocation
    }

    /// The last counter of the device valid in `space` (0: none).
    public func lastCounter(in space: SpaceID) -> UInt64 { lastCounters[space] ?? 0 }

    /// The bytes signed; the (space, last counter) list sorted by space.
    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter.statement(Self.tag)
        writer.replica(replica)
        writer.time(revokedAt)
        writer.varint(lastCounters.count)
        for (space, counter) in lastCounters.sorted(by: { $0.key < $1.key }) {
            writer.uuid(space.uuid)
            writer.varint(counter)
        }
        writer.key(signer)
        return writer.bytes
    }

    /// Checks that a key `ring` trusts signed this revocation.
    public func verify(trusting ring: ServerKeyRing) throws(TrustError) {
        try verifyServerSignature(trusting: ring)
    }

    private enum CodingKeys: String, CodingKey {
        case replica, revokedAt, lastCounters, signer, signature
    }

    /// One entry of the JSON list `lastCounters`: `{"space": "…", "lastCounter": n}`.
    private struct SpaceCounter: Codable {
        var space: SpaceID
        var lastCounter: UInt64
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        replica = try container.decode(ReplicaID.self, forKey: .replica)
        revokedAt = try container.decode(Int64.self, forKey: .revokedAt)
        let entries = try container.decode([SpaceCounter].self, forKey: .lastCounters)
        var counters: [SpaceID: UInt64] = [:]
        for entry in entries {
            guard counters.updateValue(entry.lastCounter, forKey: entry.space) == nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .lastCounters, in: container, debugDescription: "space \(entry.space) listed twice")
            }
        }
        lastCounters = counters
        signer = try container.decode(PublicSigningKey.self, forKey: .signer)
        signature = try container.decodeBase64(forKey: .signature, count: 64)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(replica, forKey: .replica)
        try container.encode(revokedAt, forKey: .revokedAt)
        let entries = lastCounters.sorted { $0.key < $1.key }.map { SpaceCounter(space: $0.key, lastCounter: $0.value) }
        try container.encode(entries, forKey: .lastCounters)
        try container.encode(signer, forKey: .signer)
        try container.encodeBase64(signature, forKey: .signature)
    }
}

extension DeviceRevocation: ServerSignedStatement {
    var subjectReplica: ReplicaID? { replica }
    var statementName: String { "the revocation of \(replica)" }
}
