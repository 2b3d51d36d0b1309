/// A person taking part, read from a ``SpaceDocument``.
///
/// Members' names are personal data (UK GDPR): export and erase them with care.
public struct Member: EntityView {
    /// Field names of a member entity.
    public enum Field {
        /// Register, string: the name shown to others.
        public static let displayName = "displayName"
        /// Register, string: a ``MemberRole`` raw value.
        public static let role = "role"
        /// Register, reference to the member's home ``School``.
        public static let homeSchool = "homeSchool"
    }

    /// The entity kind this view reads.
    public static let entityKind = EntityKind.member

    /// The member entity.
    public let id: EntityID
    /// The name shown to others.
    public let displayName: String?
    /// Their role, if recorded and known.
    public let role: MemberRole?
    /// Their home school.
    public let homeSchool: EntityID?

    /// Reads a member; `nil` if the entity was never created or is of another kind.
    public init?(_ id: EntityID, in document: SpaceDocument) {
        guard document.isEntity(id, ofKind: Self.entityKind) else { return nil }
        self.id = id
        displayName = document.stringValue(Field.displayName, of: id)
        role = document.termValue(Field.role, of: id)
        homeSchool = document.referenceValue(Field.homeSchool, of: id)
    }
}

/// The description of a space (the unit of sharing and access: one per partnership,
/// shared, and one per school, private to its members), read from a ``SpaceDocument``.
public struct Space: EntityView {
    /// Field names of a space entity.
    public enum Field {
        /// Register, string: a ``SpaceOwnerKind`` raw value.
        public static let ownerKind = "ownerKind"
        /// Register, reference to the owning ``Partnership`` or ``School``.
        public static let owner = "owner"
        /// Set of references to the ``Member``s who belong to the space.
        public static let members = "members"
    }

    /// The entity kind this view reads.
    public static let entityKind = EntityKind.space

    /// The space entity.
    public let id: EntityID
    /// Whether a partnership or a school owns the space, if recorded and known.
    public let ownerKind: SpaceOwnerKind?
    /// The owning partnership or school.
    public let owner: EntityID?
    /// The members who belong to the space, sorted by id.
    public let members: [EntityID]

    /// Reads a space; `nil` if the entity was never created or is of another kind.
    public init?(_ id: EntityID, in document: SpaceDocument) {
        guard document.isEntity(id, ofKind: Self.entityKind) else { return nil }
        self.id = id
        ownerKind = document.termValue(Field.ownerKind, of: id)
        owner = document.referenceValue(Field.owner, of: id)
        members = document.referenceMembers(Field.members, of: id)
    }
}
