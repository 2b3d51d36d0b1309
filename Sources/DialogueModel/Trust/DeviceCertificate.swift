import Foundation

/// The server's word that a replica id belongs to a device key and a member of a school
/// (tag `dialogue/device-certificate/1`, signed by the server's key).
public struct DeviceCertificate: Hashable, Sendable, Codable {
    public static let tag = "dialogue/device-certificate/1"

    public var replica: ReplicaID
    /// The device's key: it signs the device's ``ChainHead``s.
    public var publicKey: PublicSigningKey
    public var member: UUID
    public var memberName: String
    public var school: UUID
    public var schoolName: String
    /// Milliseconds since 1970.
    public var issuedAt: Int64
    /// The server key that signed.
    public var signer: PublicSigningKey
    /// Ed25519 signature of ``canonicalBytes`` by ``signer``.
    public var signature: [UInt8]

    public init(
        replica: ReplicaID, publicKey: PublicSigningKey, member: UUID, memberName: String, school: UUID,
        schoolName: String, issuedAt: Int64, signer: PublicSigningKey, signature: [UInt8]
    ) {
        self.replica = replica
        self.publicKey = publicKey
        self.member = member
        self.memberName = memberName
        self.school = school
        self.schoolName = schoolName
        self.issuedAt = issuedAt
        self.signer = signer
        self.signature = signature
    }

    /// A certificate signed by `serverKey` (which becomes ``signer``).
    public static func issue(
        replica: ReplicaID, publicKey: PublicSigningKey, member: UUID, memberName: String, school: UUID,
        schoolName: String, issuedAt: Int64, signedBy serverKey: SigningKeyPair
    ) -> DeviceCertificate {
        var certificate = DeviceCertificate(
            replica: replica, publicKey: publicKey, member: member, memberName: memberName, school: school,
            schoolName: schoolName, issuedAt: issuedAt, signer: serverKey.publicKey, signature: [])
        certificate.signature = serverKey.sign(certificate.canonicalBytes)
        return certificate
    }

    /// The bytes signed, as docs/TRUST.md fixes them.
    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter.statement(Self.tag)
        writer.replica(replica)
        writer.key(publicKey)
        writer.uuid(member)
        writer.string(memberName)
        writer.uuid(school)
        writer.string(schoolName)
        writer.time(issuedAt)
        writer.key(signer)
        return writer.bytes
    }

    /// Checks that a key `ring` trusts signed this certificate.
    /// - Throws: ``TrustError/untrustedServerKey(presented:pinned:)`` or ``TrustError/badSignature(replica:counter:reason:)``.
    public func verify(trusting ring: ServerKeyRing) throws(TrustError) {
        try verifyServerSignature(trusting: ring)
    }

    private enum CodingKeys: String, CodingKey {
        case replica, publicKey, member, memberName, school, schoolName, issuedAt, signer, signature
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        replica = try container.decode(ReplicaID.self, forKey: .replica)
        publicKey = try container.decode(PublicSigningKey.self, forKey: .publicKey)
        member = try container.decodeUUID(forKey: .member)
        memberName = try container.decode(String.self, forKey: .memberName)
        school = try container.decodeUUID(forKey: .school)
        schoolName = try container.decode(String.self, forKey: .schoolName)
        issuedAt = try container.decode(Int64.self, forKey: .issuedAt)
        signer = try container.decode(PublicSigningKey.self, forKey: .signer)
        signature = try container.decodeBase64(forKey: .signature, count: 64)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(replica, forKey: .replica)
        try container.encode(publicKey, forKey: .publicKey)
        try container.encodeUUID(member, forKey: .member)
        try container.encode(memberName, forKey: .memberName)
        try container.encodeUUID(school, forKey: .school)
        try container.encode(schoolName, forKey: .schoolName)
        try container.encode(issuedAt, forKey: .issuedAt)
        try container.encode(signer, forKey: .signer)
        try container.encodeBase64(signature, forKey: .signature)
    }
}

extension DeviceCertificate: ServerSignedStatement {
    var subjectReplica: ReplicaID? { replica }
    var statementName: String { "the device certificate of \(replica)" }
}
