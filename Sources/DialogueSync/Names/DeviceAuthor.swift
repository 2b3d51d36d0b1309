import DialogueModel
import Foundation

/// A member as the server certified them: the person a device writes for.
///
/// JSON: `{"id", "name", "school", "schoolName"}` (ids as lower-case UUIDs).
public struct CertifiedMember: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The member's id (the same id the partnership's member records use).
    public var id: EntityID
    /// Their display name, as the server certified it.
    public var name: String
    /// Their school's id.
    public var school: EntityID
    /// Their school's name, as the server certified it.
    public var schoolName: String

    /// Creates a certified member from its parts.
    public init(id: EntityID, name: String, school: EntityID, schoolName: String) {
        self.id = id
        self.name = name
        self.school = school
        self.schoolName = schoolName
    }

    /// The member a certificate names.
    public init(_ certificate: DeviceCertificate) {
        self.init(
            id: EntityID(certificate.member), name: certificate.memberName, school: EntityID(certificate.school),
            schoolName: certificate.schoolName)
    }

    /// "Ada Lovelace (Northgate)".
    public var description: String { "\(name) (\(schoolName))" }
}

/// Who wrote a change: the device (replica id) and, when this replica holds a verified
/// certificate of it, the member it is certified for.
///
/// A device with no certificate held is never shown as a person: ``description`` reads
/// "an unverified device 3f2a9c01…" (its id's first 8 hex digits).
///
/// JSON: `{"device": "<16 hex>", "certified": true, "id", "name", "school", "schoolName"}`
/// (the member's fields as in ``CertifiedMember``), or `{"device": "<16 hex>", "certified": false}`.
public struct DeviceAuthor: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The device (its replica id): a change's author.
    public var device: ReplicaID
    /// The member the device is certified for; `nil` when no certificate of it is held.
    public var member: CertifiedMember?

    /// Creates an author from its parts.
    public init(device: ReplicaID, member: CertifiedMember?) {
        self.device = device
        self.member = member
    }

    /// Whether a certificate of the device is held (the member is known).
    public var isCertified: Bool { member != nil }

    /// "Ada Lovelace (Northgate)", or "an unverified device 3f2a9c01…".
    public var description: String {
        member?.description ?? "an unverified device \(String(device.description.prefix(8)))…"
    }

    private enum CodingKeys: String, CodingKey { case device, certified }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        device = try container.decode(ReplicaID.self, forKey: .device)
        member = try container.decode(Bool.self, forKey: .certified) ? try CertifiedMember(from: decoder) : nil
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(device, forKey: .device)
        try container.encode(isCertified, forKey: .certified)
        try member?.encode(to: encoder)
    }
}

/// Names for devices, members and schools, read once from the replica's cached
/// certificates (this device's included) and people directory: for rendering many rows
/// without a read per row.
public struct AuthorNames: Sendable {
    private let byDevice: [ReplicaID: CertifiedMember]
    private let byMember: [EntityID: CertifiedMember]
    private let bySchool: [EntityID: String]

    /// Names from `certificates` and `people` (each verified when it was stored). Of a
    /// member both name, the newer statement wins (a renamed member's newest name).
    public init(certificates: [DeviceCertificate], people: PeopleDirectory? = nil) {
        var byDevice: [ReplicaID: CertifiedMember] = [:]
        var byMember: [EntityID: (issuedAt: Int64, member: CertifiedMember)] = [:]
        var bySchool: [EntityID: (issuedAt: Int64, name: String)] = [:]
        func consider(_ member: CertifiedMember, issuedAt: Int64) {
            if (byMember[member.id]?.issuedAt ?? .min) <= issuedAt { byMember[member.id] = (issuedAt, member) }
            if (bySchool[member.school]?.issuedAt ?? .min) <= issuedAt { bySchool[member.school] = (issuedAt, member.schoolName) }
        }
        for certificate in certificates {
            let member = CertifiedMember(certificate)
            byDevice[certificate.replica] = member
            consider(member, issuedAt: certificate.issuedAt)
        }
        if let people {
            for school in people.schools where (bySchool[EntityID(school.id)]?.issuedAt ?? .min) <= people.issuedAt {
                bySchool[EntityID(school.id)] = (people.issuedAt, school.name)
            }
            for person in people.people {
                let school = bySchool[EntityID(person.school)]?.name ?? ""
                consider(
                    CertifiedMember(id: EntityID(person.id), name: person.name, school: EntityID(person.school), schoolName: school),
                    issuedAt: people.issuedAt)
            }
        }
        self.byDevice = byDevice
        self.byMember = byMember.mapValues(\.member)
        self.bySchool = bySchool.mapValues(\.name)
    }

    /// Every member named, by name then id.
    public var members: [CertifiedMember] { byMember.values.sorted { ($0.name, $0.id) < ($1.name, $1.id) } }

    /// Every school named, by name then id.
    public var schools: [(id: EntityID, name: String)] {
        bySchool.map { (id: $0.key, name: $0.value) }.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
    }

    /// A school's name, from the people directory or a certificate of one of its members'
    /// devices (the newer); `nil` when neither names it.
    public func school(_ id: EntityID) -> String? { bySchool[id] }

    /// Who wrote with `device`: its certified member (by their newest name), or an
    /// unverified device.
    public func author(of device: ReplicaID) -> DeviceAuthor {
        DeviceAuthor(device: device, member: byDevice[device].map { byMember[$0.id] ?? $0 })
    }

    /// A member as the newest of the people directory and the certificates of their
    /// devices names them, or `nil` when neither does.
    public func member(_ id: EntityID) -> CertifiedMember? { byMember[id] }
}

extension Replica {
    /// Names for devices from the certificates this replica holds (its own and those of
    /// devices that wrote in its spaces).
    public nonisolated func authorNames() throws(ReplicaError) -> AuthorNames {
        AuthorNames(certificates: try certificates(), people: try peopleDirectory())
    }

    /// Who wrote with `device`: the member its certificate names, or an unverified device
    /// ("an unverified device 3f2a9c01…", never a bare replica id presented as a person).
    public nonisolated func author(of device: ReplicaID) throws(ReplicaError) -> DeviceAuthor {
        DeviceAuthor(device: device, member: try certificate(of: device).map(CertifiedMember.init))
    }

    /// The devices that originally created `entity` (`EntityLifecycle/originalCreators`:
    /// creations that overwrote nothing), ascending; more than one only when some device
    /// claimed an entity it did not create. Empty when no creation of it is held.
    public func originalCreators(of entity: EntityID) -> [ReplicaID] {
        Set(originalCreations(of: [entity])[entity]?.map(\.device) ?? []).sorted()
    }

    /// The device that created `entity`: the device of its original creation (a re-creation
    /// after a delete never counts), or the earliest of several that are all certified for
    /// one member; `nil` when no creation is held, or when original creations come from
    /// devices of different members or uncertified ones: then the authorship is disputed
    /// (``authorship(ofEntity:names:)``).
    public func creator(of entity: EntityID) -> ReplicaID? {
        guard let creations = originalCreations(of: [entity])[entity], let first = creations.first else { return nil }
        let devices = Set(creations.map(\.device))
        guard devices.count > 1 else { return first.device }
        let members = Set(devices.map { device in (try? certificate(of: device))??.member })
        return members.count == 1 && !members.contains(nil) ? first.device : nil
    }

    /// The original creations of `entities` (materialised: no document is built), each
    /// entity's in last-writer-wins order; an entity with none held is absent.
    func originalCreations(of entities: [EntityID]) -> [EntityID: [EntityCreations.Creation]] {
        (try? readForQuery { db in try EntityCreations.creations(of: entities, db) }) ?? [:]
    }

    /// Whose `entity` is, named from certificates: its creator's member, or every original
    /// creator when the authorship is disputed; `nil` when no creation of it is held.
    public func authorship(ofEntity entity: EntityID, names: AuthorNames) -> EntityAuthorship? {
        if let device = creator(of: entity) { return .by(names.author(of: device)) }
        let devices = originalCreators(of: entity)
        return devices.isEmpty ? nil : .disputed(devices.map(names.author(of:)))
    }

    /// An entity's author: the member certified for the device that created it (an insight's
    /// author is derived from its signing device, never from what a change claims); `nil`
    /// when this replica holds no creation of it.
    public func author(ofEntity entity: EntityID) throws(ReplicaError) -> DeviceAuthor? {
        guard let device = creator(of: entity) else { return nil }
        return try author(of: device)
    }
}

/// Whose an entity is (docs/TRUST.md, "Authorship").
public enum EntityAuthorship: Sendable, Hashable, CustomStringConvertible {
    /// Created by this device, certified for this member (or an unverified device).
    case by(DeviceAuthor)
    /// Created, each claiming to be first, by devices of different members: the server
    /// refuses a second creation, so this arrives only outside it (a bundle).
    case disputed([DeviceAuthor])

    /// The single author, if not disputed.
    public var author: DeviceAuthor? {
        if case .by(let author) = self { return author }
        return nil
    }

    /// "Ada Lovelace (Northgate)", or "disputed: Ada Lovelace (Northgate), Ben Okafor (Vale)".
    public var description: String {
        switch self {
        case .by(let author): author.description
        case .disputed(let authors): "disputed: " + authors.map(\.description).joined(separator: ", ")
        }
    }
}
