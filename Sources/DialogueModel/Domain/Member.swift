/// A person taking part, read from a ``SpaceDocument``.
///
/// Members' names are personal data (UK GDPR): export and erase them with care.
public struct Member: EntityView {
    /// The fields of a member entity, each declared once (see ``FieldDescriptor``).
    public enum Key {
        /// The ``Field/displayName`` field.
        public static let displayName = FieldKey<Member, String>("displayName", .register, .nonEmptyText, column: "display_name")
        /// The ``Field/role`` field.
        public static let role = FieldKey<Member, MemberRole>("role", .register, .vocabulary(MemberRole.self), column: "role")
        /// The ``Field/homeSchool`` field.
        public static let homeSchool = FieldKey<Member, EntityID>("homeSchool", .register, .reference, column: "home_school")

        /// Every field, in declaration order.
        public static let all: [FieldDescriptor] = [displayName.descriptor, role.descriptor, homeSchool.descriptor]
    }

    /// Field names of a member entity (the names of its ``Key``s).
    public enum Field {
        /// Register, string: the name shown to others.
        public static let displayName = Key.displayName.name
        /// Register, string: a ``MemberRole`` raw value.
        public static let role = Key.role.name
        /// Register, reference to the member's home ``School``.
        public static let homeSchool = Key.homeSchool.name
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
    /// The fields of a space entity, each declared once (see ``FieldDescriptor``).
    public enum Key {
        /// The ``Field/ownerKind`` field.
        public static let ownerKind = FieldKey<Space, SpaceOwnerKind>(
            "ownerKind", .register, .vocabulary(SpaceOwnerKind.self), column: "owner_kind")
        /// The ``Field/owner`` field.
        public static let owner = FieldKey<Space, EntityID>("owner", .register, .reference, column: "owner")
        /// The ``Field/members`` field.
        public static let members = FieldKey<Space, EntityID>("members", .set, .reference, table: "space_members", column: "member_id")

        /// Every field, in declaration order.
        public static let all: [FieldDescriptor] = [ownerKind.descriptor, owner.descriptor, members.descriptor]
    }

    /// Field names of a space entity (the names of its ``Key``s).
    public enum Field {
        /// Register, string: a ``SpaceOwnerKind`` raw value.
        public static let ownerKind = Key.ownerKind.name
        /// Register, reference to the owning ``Partnership`` or ``School``.
        public static let owner = Key.owner.name
        /// Set of references to the ``Member``s who belong to the space.
        public static let members = Key.members.name
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
