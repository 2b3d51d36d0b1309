import Foundation

/// The server's consent to one device erasing one target in one space (tag
/// `dialogue/erasure-approval/1`, signed by the server's key), carried inside the erasure
/// change. The server gives it only to a device of an admin whose school may hold the
/// space (docs/PRIVACY.md, "Erasure"); an author erasing their own insight needs none.
/// Every replica checks it, so an erasure relayed in a bundle by anyone is judged alike.
public struct ErasureApproval: Hashable, Sendable, Codable {
    public static let tag = "dialogue/erasure-approval/1"

    public var space: SpaceID
    /// The device that may write the erasure.
    public var replica: ReplicaID
    public var target: Erasure.Target
    /// Milliseconds since 1970.
    public var issuedAt: Int64
    public var signer: PublicSigningKey
    public var signature: [UInt8]

    public init(
        space: SpaceID, replica: ReplicaID, target: Erasure.Target, issuedAt: Int64, signer: PublicSigningKey, signature: [UInt8]
    ) {
        self.space = space
        self.replica = replica
        self.target = target
        self.issuedAt = issuedAt
        self.signer = signer
        self.signature = signature
    }

    /// An approval signed by `serverKey`.
    public static func issue(
        space: SpaceID, replica: ReplicaID, target: Erasure.Target, issuedAt: Int64, signedBy serverKey: SigningKeyPair
    ) -> ErasureApproval {
        var approval = ErasureApproval(
            space: space, replica: replica, target: target, issuedAt: issuedAt, signer: serverKey.publicKey, signature: [])
        approval.signature = serverKey.sign(approval.canonicalBytes)
        return approval
    }

    /// The bytes signed: tag · space · replica · target (``Erasure/Target/canonicalBytes``)
    /// · issued-at · signer.
    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter.statement(Self.tag)
        writer.uuid(space.uuid)
        writer.replica(replica)
        target.writeCanonical(to: &writer)
        writer.time(issuedAt)
        writer.key(signer)
        return writer.bytes
    }

    /// Checks that a key `ring` trusts signed this approval.
    public func verify(trusting ring: ServerKeyRing) throws(TrustError) {
        try verifyServerSignature(trusting: ring)
    }

    /// Checks that this approval lets `change` (an erasure of `target`) be written:
    /// signed by a trusted server key, for the change's space, device and target.
    public func verify(for change: Change, target: Erasure.Target, trusting ring: ServerKeyRing) throws(TrustError) {
        try verify(trusting: ring)
        guard space == change.space, replica == change.replica, self.target == target else {
            throw .badSignature(
                replica: change.replica, counter: change.id.counter,
                reason: "the erasure approval was given for another space, device or target")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case space, replica, target, issuedAt, signer, signature
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        space = try container.decode(SpaceID.self, forKey: .space)
        replica = try container.decode(ReplicaID.self, forKey: .replica)
        target = try container.decode(Erasure.Target.self, forKey: .target)
        issuedAt = try container.decode(Int64.self, forKey: .issuedAt)
        signer = try container.decode(PublicSigningKey.self, forKey: .signer)
        signature = try container.decodeBase64(forKey: .signature, count: 64)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(space, forKey: .space)
        try container.encode(replica, forKey: .replica)
        try container.encode(target, forKey: .target)
        try container.encode(issuedAt, forKey: .issuedAt)
        try container.encode(signer, forKey: .signer)
        try container.encodeBase64(signature, forKey: .signature)
    }
}

extension ErasureApproval: ServerSignedStatement {
    var subjectReplica: ReplicaID? { replica }
    var statementName: String { "the erasure approval for \(replica)" }
}

/// `{"entity": "…"}`, `{"entity": "…", "field": "summary"}` or
/// `{"member": "…", "replicas": ["<16 hex>", …]}`.
extension Erasure.Target: Codable {
    private enum CodingKeys: String, CodingKey {
        case entity, field, member, replicas
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.member) {
            let member = try container.decodeUUID(forKey: .member)
            guard !container.contains(.entity), !container.contains(.field) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .member, in: container, debugDescription: "an erasure names a member or an entity, not both")
            }
            self = .contributions(member: member, replicas: try container.decode([ReplicaID].self, forKey: .replicas))
        } else {
            let entity = try container.decode(EntityID.self, forKey: .entity)
            guard !container.contains(.replicas) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .replicas, in: container, debugDescription: "devices are named only with a member")
            }
            if let field = try container.decodeIfPresent(String.self, forKey: .field) {
                self = .field(entity, field)
            } else {
                self = .entity(entity)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .entity(let entity): try container.encode(entity, forKey: .entity)
        case .field(let entity, let field):
            try container.encode(entity, forKey: .entity)
            try container.encode(field, forKey: .field)
        case .contributions(let member, let replicas):
            try container.encodeUUID(member, forKey: .member)
            try container.encode(replicas, forKey: .replicas)
        }
    }
}
