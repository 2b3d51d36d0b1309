/// A network of schools that share sessions, read from a ``SpaceDocument``.
public struct Partnership: EntityView {
    /// Field names of a partnership entity.
    public enum Field {
        /// Register, string: the partnership's name.
        public static let name = "name"
        /// Set of references to the member ``School``s.
        public static let schools = "schools"
        /// Register, string: a ``ContinuumPosition`` raw value, where the partnership
        /// places itself now (earlier positions survive in the register's history).
        public static let continuum = "continuum"
    }

    /// The entity kind this view reads.
    public static let entityKind = EntityKind.partnership

    /// The partnership entity.
    public let id: EntityID
    /// Its name.
    public let name: String?
    /// Its member schools, sorted by id.
    public let schools: [EntityID]
    /// Where it places itself on Hargreaves and Fink's continuum, if recorded and known.
    public let continuum: ContinuumPosition?

    /// Reads a partnership; `nil` if the entity was never created or is of another kind.
    public init?(_ id: EntityID, in document: SpaceDocument) {
        guard document.isEntity(id, ofKind: Self.entityKind) else { return nil }
        self.id = id
        name = document.stringValue(Field.name, of: id)
        schools = document.referenceMembers(Field.schools, of: id)
        continuum = document.termValue(Field.continuum, of: id)
    }
}

/// One school, read from a ``SpaceDocument``.
public struct School: EntityView {
    /// Field names of a school entity.
    public enum Field {
        /// Register, string: the school's name.
        public static let name = "name"
        /// Register, string, optional: the official reference number (such as a URN).
        public static let reference = "reference"
        /// Register, reference to the school's ``Partnership``.
        public static let partnership = "partnership"
    }

    /// The entity kind this view reads.
    public static let entityKind = EntityKind.school

    /// The school entity.
    public let id: EntityID
    /// Its name.
    public let name: String?
    /// Its official reference number, if recorded.
    public let reference: String?
    /// The partnership it belongs to.
    public let partnership: EntityID?

    /// Reads a school; `nil` if the entity was never created or is of another kind.
    public init?(_ id: EntityID, in document: SpaceDocument) {
        guard document.isEntity(id, ofKind: Self.entityKind) else { return nil }
        self.id = id
        name = document.stringValue(Field.name, of: id)
        reference = document.stringValue(Field.reference, of: id)
        partnership = document.referenceValue(Field.partnership, of: id)
    }
}
