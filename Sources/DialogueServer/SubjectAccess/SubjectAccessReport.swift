import DialogueModel
import Foundation

/// Everything the server holds about one person (UK GDPR subject access), as
/// ``SubjectAccess/gather(member:store:now:)`` finds it. Its JSON is stable and documented
/// field by field in `docs/PRIVACY.md`, "Subject access" (a new field raises no version; a
/// changed or removed one raises ``formatVersion``); ``markdown()`` is the readable report.
///
/// Times are milliseconds since 1970 (UTC); ids are lower-case UUIDs (``EntityID``: a
/// member's entity id is their account's id), devices 16 hex digits.
public struct SubjectAccessReport: Sendable, Hashable, Codable {
    /// The format this version writes.
    public static let currentFormatVersion = 1

    /// The JSON's format (``currentFormatVersion``).
    public var formatVersion: Int
    /// When the report was gathered.
    public var generatedAt: Int64
    /// The person: their member account.
    public var subject: Subject
    /// Every token issued to them, revoked ones included (never the token or its hash).
    public var tokens: [Token]
    /// Every device registered for them, by registration time.
    public var devices: [Device]
    /// Each space the server holds, by name: what it holds about them there.
    public var spaces: [SpaceSection]
    /// What the report could not see, and why.
    public var cannotSee: [Gap]
    /// Names of the entities and accounts the report's values refer to (a session an
    /// insight belongs to, a school), by id: so a reader sees names, not only ids.
    public var references: [Reference]

    /// The member account.
    public struct Subject: Sendable, Hashable, Codable {
        public var id: EntityID
        public var name: String
        public var access: MemberAccess
        public var school: EntityID
        /// Their school's name; `nil` if the school account is missing.
        public var schoolName: String?
    }

    /// A token issued to the member: what it is called and when it was issued and revoked.
    public struct Token: Sendable, Hashable, Codable {
        public var id: EntityID
        public var label: String
        public var issuedAt: Int64
        /// `nil` while the token is valid.
        public var revokedAt: Int64?

        init(_ listing: TokenListing) {
            self.init(id: EntityID(listing.id), label: listing.label, issuedAt: listing.issuedAt, revokedAt: listing.revokedAt)
        }

        init(id: EntityID, label: String, issuedAt: Int64, revokedAt: Int64?) {
            self.id = id
            self.label = label
            self.issuedAt = issuedAt
            self.revokedAt = revokedAt
        }
    }

    /// A device registered for the member: a replica id bound to a key.
    public struct Device: Sendable, Hashable, Codable {
        public var replica: ReplicaID
        /// The device key's fingerprint (`SHA256:…`, as `admin list-devices` shows).
        public var fingerprint: String
        /// The token it last registered with, and that token's label.
        public var token: EntityID
        public var tokenLabel: String
        public var registeredAt: Int64
        public var revokedAt: Int64?
        /// Per space, the last counter of this device the server holds (spaces it wrote in).
        public var lastCounters: [SpaceCounter]
        /// For a revoked device: per space, the last counter kept valid at its revocation.
        public var keptAtRevocation: [SpaceCounter]
    }

    /// A counter in one space.
    public struct SpaceCounter: Sendable, Hashable, Codable {
        public var space: SpaceID
        public var counter: UInt64
    }

    /// What one space holds about the member.
    public struct SpaceSection: Sendable, Hashable, Codable {
        public var space: SpaceID
        /// The school's or partnership's name.
        public var name: String
        /// `private` (a school's), `shared` (a partnership's) or `personal` (the subject's own
        /// personal space: another member's is never in the report).
        public var kind: String
        /// The school or partnership that owns it.
        public var owner: EntityID
        /// How many changes the server holds of this space, and how many of them came from
        /// the member's devices.
        public var changesHeld: Int
        public var changesByMember: Int
        /// The member's own record in the space (the member entity with their id), if any.
        public var memberRecord: MemberRecord?
        /// Where others' (or their own) entities name them: facilitator, participant…
        public var named: [Naming]
        /// Every entity a change of theirs touched: what of it stands as theirs, and their edits.
        public var wrote: [WrittenEntity]
        /// Changes from devices nobody registered (written before signing): who wrote them
        /// cannot be told, so they are counted here without their content.
        public var unattributable: [UnattributedDevice]
    }

    /// The member entity whose id is the member's.
    public struct MemberRecord: Sendable, Hashable, Codable {
        public var displayName: String?
        /// A ``MemberRole`` raw value.
        public var role: String?
        public var homeSchool: EntityID?
        public var deleted: Bool
    }

    /// One field of one entity that names the member.
    public struct Naming: Sendable, Hashable, Codable {
        public var entity: EntityID
        /// The entity's kind ("session", "action"…).
        public var kind: String
        /// Its title, description or an excerpt of its text, if it has one.
        public var title: String?
        public var field: String
        /// `facilitator`, `participant`, `owner` (of an action), `author` (of an insight),
        /// `spaceMember`, or `reference` for any other field that refers to them.
        public var role: String
        /// Whether the entity is deleted (hidden, its content still held).
        public var deleted: Bool
    }

    /// An entity the member's devices wrote to.
    public struct WrittenEntity: Sendable, Hashable, Codable {
        public var entity: EntityID
        /// Its kind; `nil` when its creation is not held.
        public var kind: String?
        public var title: String?
        /// Whether a device of theirs created it.
        public var created: Bool
        public var deleted: Bool
        /// What of its current content they wrote: a register whose winning value is theirs,
        /// set and list values they added that stand, passages of text they typed that stand.
        public var standing: [StandingValue]
        /// Their edits of it, oldest first (hybrid logical clock order).
        public var edits: [Edit]
    }

    /// One standing value of a field that the member wrote: `value` for registers, sets and
    /// lists; `text` for a passage of collaborative text.
    public struct StandingValue: Sendable, Hashable, Codable {
        public var field: String
        public var value: FieldValue?
        public var text: String?
    }

    /// One edit (one change) of the member's.
    public struct Edit: Sendable, Hashable, Codable {
        /// The field; "" for the entity's creation and deletion.
        public var field: String
        /// What it did (the same description a replica's `history` gives).
        public var edit: HistoryEditKind
        /// When (the change's clock: milliseconds since 1970).
        public var at: Int64
        /// The device and its counter (the change's dot).
        public var device: ReplicaID
        public var counter: UInt64
        /// `signed`, or `unsignedLegacy`: accepted before signing, attributed to the member
        /// by the device's registration, not by a signature.
        public var signing: HistorySigning
    }

    /// Changes of one unregistered device in a space.
    public struct UnattributedDevice: Sendable, Hashable, Codable {
        public var replica: ReplicaID
        public var changes: Int
        /// How many entities they touch.
        public var entities: Int
        public var firstAt: Int64
        public var lastAt: Int64
    }

    /// Something the report could not see. `code` is stable: `device_never_synced`
    /// (`device` set), `unsynced_local_edits`, `spaces_not_held`, `unattributable_changes`
    /// (`space` set), `unreadable_changes` (`space` set).
    public struct Gap: Sendable, Hashable, Codable {
        public var code: String
        public var device: ReplicaID?
        public var space: SpaceID?
        public var detail: String
    }

    /// The name of an id the report's values refer to.
    public struct Reference: Sendable, Hashable, Codable {
        public var id: EntityID
        /// An entity kind ("session", "school"…), or `memberAccount`, `schoolAccount`,
        /// `partnershipAccount` for the server's accounts.
        public var kind: String
        public var name: String
    }
}

/// Why subject access could not be gathered.
public enum SubjectAccessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No member account has this id.
    case memberNotFound(UUID)

    public var description: String {
        switch self {
        case .memberNotFound(let id): "no member \(id) on this server (see `dialogue-server admin list`)"
        }
    }
}
