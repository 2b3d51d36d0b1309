import Foundation

/// The server's word on which spaces a member may hold, with their names and legacy
/// vectors (tag `dialogue/space-directory/2`, signed by the server's key). A replica holds
/// only the spaces its directory lists; bundle import refuses any other.
public struct SpaceDirectory: Hashable, Sendable, Codable {
    public static let tag = "dialogue/space-directory/2"

    /// Whether a space belongs to one school, is shared by a partnership, or is one
    /// member's own.
    public enum Kind: String, Hashable, Sendable, Codable {
        /// A school's own space: leaves a device only when named.
        case `private`
        /// A partnership's space, shared by its schools.
        case shared
        /// One member's personal space (their personal reflection): listed only in that
        /// member's directory, held only by their devices, leaves a device only when named.
        case personal

        /// The canonical byte: 0 private, 1 shared, 2 personal.
        var byte: UInt8 {
            switch self {
            case .private: 0
            case .shared: 1
            case .personal: 2
            }
        }
    }

    /// One space the member may hold.
    public struct Entry: Hashable, Sendable, Codable {
        public var space: SpaceID
        public var name: String
        public var kind: Kind
        /// The school (private space), partnership (shared space) or member (personal
        /// space) that owns it.
        public var owner: UUID
        /// What the server held of the space when it first ran a version that signs
        /// (docs/TRUST.md, "Migration"): changes at or below it were written before
        /// signing existed and are accepted once without a signed head. Empty for a space
        /// created since. Never changes.
        public var legacy: VersionVector

        public init(space: SpaceID, name: String, kind: Kind, owner: UUID, legacy: VersionVector = VersionVector()) {
            self.space = space
            self.name = name
            self.kind = kind
            self.owner = owner
            self.legacy = legacy
        }

        private enum CodingKeys: String, CodingKey { case space, name, kind, owner, legacy }

        /// One entry of the JSON `legacy` list: `{"replica": "<16 hex>", "counter": n}`.
        private struct LegacyCounter: Codable {
            var replica: ReplicaID
            var counter: UInt64
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            space = try container.decode(SpaceID.self, forKey: .space)
            name = try container.decode(String.self, forKey: .name)
            kind = try container.decode(Kind.self, forKey: .kind)
            owner = try container.decodeUUID(forKey: .owner)
            let counters = try container.decode([LegacyCounter].self, forKey: .legacy)
            legacy = VersionVector(Dictionary(counters.map { ($0.replica, $0.counter) }, uniquingKeysWith: max))
            guard legacy.lastDots.count == counters.count else {
                throw DecodingError.dataCorruptedError(
                    forKey: .legacy, in: container, debugDescription: "a replica is listed twice, or with counter 0, in the legacy vector")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(space, forKey: .space)
            try container.encode(name, forKey: .name)
            try container.encode(kind, forKey: .kind)
            try container.encodeUUID(owner, forKey: .owner)
            try container.encode(legacy.lastDots.map { LegacyCounter(replica: $0.replica, counter: $0.counter) }, forKey: .legacy)
        }
    }

    public var member: UUID
    /// Milliseconds since 1970.
    public var issuedAt: Int64
    /// Sorted by space, one per space.
    public private(set) var entries: [Entry]
    public var signer: PublicSigningKey
    public var signature: [UInt8]

    /// A directory with the given entries (sorted by space here; a space listed twice keeps its last entry).
    public init(member: UUID, issuedAt: Int64, entries: [Entry], signer: PublicSigningKey, signature: [UInt8]) {
        self.member = member
        self.issuedAt = issuedAt
        self.entries = Self.normalised(entries)
        self.signer = signer
        self.signature = signature
    }

    /// A directory signed by `serverKey`.
    public static func issue(
        member: UUID, issuedAt: Int64, entries: [Entry], signedBy serverKey: SigningKeyPair
    )
        -> SpaceDirectory
    {
        var directory = SpaceDirectory(
            member: member, issuedAt: issuedAt, entries: entries, signer: serverKey.publicKey, signature: [])
        directory.signature = serverKey.sign(directory.canonicalBytes)
        return directory
    }

    private static func normalised(_ entries: [Entry]) -> [Entry] {
        var bySpace: [SpaceID: Entry] = [:]
        for entry in entries { bySpace[entry.space] = entry }
        return bySpace.values.sorted { $0.space < $1.space }
    }

    /// The entry of `space`, or `nil` when the member may not hold it.
    public func entry(for space: SpaceID) -> Entry? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].space == space { return entries[middle] }
            if entries[middle].space < space { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// The bytes signed; entries sorted by space, each legacy vector's counters by replica.
    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter.statement(Self.tag)
        writer.uuid(member)
        writer.time(issuedAt)
        writer.varint(entries.count)
        for entry in entries {
            writer.uuid(entry.space.uuid)
            writer.string(entry.name)
            writer.byte(entry.kind.byte)
            writer.uuid(entry.owner)
            writer.varint(entry.legacy.lastDots.count)
            for dot in entry.legacy.lastDots {
                writer.replica(dot.replica)
                writer.varint(dot.counter)
            }
        }
        writer.key(signer)
        return writer.bytes
    }

    /// Checks that a key `ring` trusts signed this directory.
    public func verify(trusting ring: ServerKeyRing) throws(TrustError) {
        try verifyServerSignature(trusting: ring)
    }

    private enum CodingKeys: String, CodingKey { case member, issuedAt, entries, signer, signature }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        member = try container.decodeUUID(forKey: .member)
        issuedAt = try container.decode(Int64.self, forKey: .issuedAt)
        let listed = try container.decode([Entry].self, forKey: .entries)
        entries = Self.normalised(listed)
        guard entries.count == listed.count else {
            throw DecodingError.dataCorruptedError(
                forKey: .entries, in: container, debugDescription: "a space is listed twice")
        }
        signer = try container.decode(PublicSigningKey.self, forKey: .signer)
        signature = try container.decodeBase64(forKey: .signature, count: 64)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeUUID(member, forKey: .member)
        try container.encode(issuedAt, forKey: .issuedAt)
        try container.encode(entries, forKey: .entries)
        try container.encode(signer, forKey: .signer)
        try container.encodeBase64(signature, forKey: .signature)
    }
}

extension SpaceDirectory: ServerSignedStatement {
    var subjectReplica: ReplicaID? { nil }
    var statementName: String { "the space directory of member \(member.uuidString.lowercased())" }
}
