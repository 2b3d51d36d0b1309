import Crypto
import Foundation

/// The schools and members a member may see named, signed by the server's key: their own
/// school and every school that shares a partnership with it, and the members of those
/// schools. It names people nobody has named in a space (no `members add` needed) and
/// people whose devices this replica has never met.
///
/// The server sends it with a sync answer when the replica does not already hold the same
/// content (``contentDigest``); the replica keeps only the newest, so a member who leaves
/// disappears from it at the next sync.
///
/// JSON: `{"member", "issuedAt", "schools": [{"id", "name"}], "people": [{"id", "name",
/// "school"}], "signer", "signature"}`.
public struct PeopleDirectory: Hashable, Sendable, Codable {
    public static let tag = "dialogue/people-directory/1"

    /// A school, named.
    public struct School: Hashable, Sendable, Codable {
        public var id: UUID
        public var name: String

        public init(id: UUID, name: String) {
            self.id = id
            self.name = name
        }

        private enum CodingKeys: String, CodingKey { case id, name }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeUUID(forKey: .id)
            name = try container.decode(String.self, forKey: .name)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeUUID(id, forKey: .id)
            try container.encode(name, forKey: .name)
        }
    }

    /// A member, named, with their school.
    public struct Person: Hashable, Sendable, Codable {
        public var id: UUID
        public var name: String
        public var school: UUID

        public init(id: UUID, name: String, school: UUID) {
            self.id = id
            self.name = name
            self.school = school
        }

        private enum CodingKeys: String, CodingKey { case id, name, school }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeUUID(forKey: .id)
            name = try container.decode(String.self, forKey: .name)
            school = try container.decodeUUID(forKey: .school)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeUUID(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encodeUUID(school, forKey: .school)
        }
    }

    /// The member it was issued to.
    public var member: UUID
    /// Milliseconds since 1970.
    public var issuedAt: Int64
    /// Sorted by id, one per school.
    public private(set) var schools: [School]
    /// Sorted by id, one per member.
    public private(set) var people: [Person]
    public var signer: PublicSigningKey
    public var signature: [UInt8]

    /// A directory with the given schools and people (sorted by id here; an id listed twice
    /// keeps its last entry).
    public init(member: UUID, issuedAt: Int64, schools: [School], people: [Person], signer: PublicSigningKey, signature: [UInt8]) {
        self.member = member
        self.issuedAt = issuedAt
        self.schools = Self.normalised(schools, by: \.id)
        self.people = Self.normalised(people, by: \.id)
        self.signer = signer
        self.signature = signature
    }

    /// A directory signed by `serverKey`.
    public static func issue(
        member: UUID, issuedAt: Int64, schools: [School], people: [Person], signedBy serverKey: SigningKeyPair
    ) -> PeopleDirectory {
        var directory = PeopleDirectory(
            member: member, issuedAt: issuedAt, schools: schools, people: people, signer: serverKey.publicKey, signature: [])
        directory.signature = serverKey.sign(directory.canonicalBytes)
        return directory
    }

    private static func normalised<Entry>(_ entries: [Entry], by id: KeyPath<Entry, UUID>) -> [Entry] {
        var byID: [UUID: Entry] = [:]
        for entry in entries { byID[entry[keyPath: id]] = entry }
        return byID.values.sorted { $0[keyPath: id].uuidString < $1[keyPath: id].uuidString }
    }

    /// The school with this id, if listed.
    public func school(_ id: UUID) -> School? { schools.first { $0.id == id } }

    /// The member with this id, if listed.
    public func person(_ id: UUID) -> Person? { people.first { $0.id == id } }

    /// The bytes signed: the content (member, schools, people) then the issue time and the signer.
    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter.statement(Self.tag)
        writer.raw(contentBytes)
        writer.time(issuedAt)
        writer.key(signer)
        return writer.bytes
    }

    /// What the directory says, without when or by which key: two directories with equal
    /// content bytes name the same people.
    private var contentBytes: [UInt8] {
        var writer = ByteWriter()
        writer.uuid(member)
        writer.varint(schools.count)
        for school in schools {
            writer.uuid(school.id)
            writer.string(school.name)
        }
        writer.varint(people.count)
        for person in people {
            writer.uuid(person.id)
            writer.string(person.name)
            writer.uuid(person.school)
        }
        return writer.bytes
    }

    /// SHA-256 of the content, lower-case hex: what a replica tells the server it holds, so
    /// that an unchanged directory is not sent again.
    public var contentDigest: String {
        SHA256.hash(data: contentBytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Checks that a key `ring` trusts signed this directory.
    public func verify(trusting ring: ServerKeyRing) throws(TrustError) {
        try verifyServerSignature(trusting: ring)
    }

    private enum CodingKeys: String, CodingKey { case member, issuedAt, schools, people, signer, signature }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        member = try container.decodeUUID(forKey: .member)
        issuedAt = try container.decode(Int64.self, forKey: .issuedAt)
        let listedSchools = try container.decode([School].self, forKey: .schools)
        let listedPeople = try container.decode([Person].self, forKey: .people)
        schools = Self.normalised(listedSchools, by: \.id)
        people = Self.normalised(listedPeople, by: \.id)
        guard schools.count == listedSchools.count, people.count == listedPeople.count else {
            throw DecodingError.dataCorruptedError(
                forKey: .people, in: container, debugDescription: "a school or a member is listed twice")
        }
        signer = try container.decode(PublicSigningKey.self, forKey: .signer)
        signature = try container.decodeBase64(forKey: .signature, count: 64)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeUUID(member, forKey: .member)
        try container.encode(issuedAt, forKey: .issuedAt)
        try container.encode(schools, forKey: .schools)
        try container.encode(people, forKey: .people)
        try container.encode(signer, forKey: .signer)
        try container.encodeBase64(signature, forKey: .signature)
    }
}

extension PeopleDirectory: ServerSignedStatement {
    var subjectReplica: ReplicaID? { nil }
    var statementName: String { "the people directory of member \(member.uuidString.lowercased())" }
}
