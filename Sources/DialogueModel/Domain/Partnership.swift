/// A network of schools that share sessions, read from a ``SpaceDocument``.
public struct Partnership: EntityView {
    /// The fields of a partnership entity, each declared once (see ``FieldDescriptor``).
    public enum Key {
        /// The ``Field/name`` field.
        public static let name = FieldKey<Partnership, String>("name", .register, .nonEmptyText, column: "name")
        /// The ``Field/schools`` field.
        public static let schools = FieldKey<Partnership, EntityID>(
            "schools", .set, .reference, table: "partnership_schools", column: "school_id")
        /// The ``Field/continuum`` field.
        public static let continuum = FieldKey<Partnership, ContinuumPosition>(
            "continuum", .register, .vocabulary(ContinuumPosition.self), column: "continuum")

        /// Every field, in declaration order.
        public static let all: [FieldDescriptor] = [name.descriptor, schools.descriptor, continuum.descriptor]
    }

    /// Field names of a partnership entity (the names of its ``Key``s).
    public enum Field {
        /// Register, string: the partnership's name.
        public static let name = Key.name.name
        /// Set of references to the member ``School``s.
        public static let schools = Key.schools.name
        /// Register, string: a ``ContinuumPosition`` raw value, where the partnership
        /// places itself now (earlier positions survive in the register's history).
        public static let continuum = Key.continuum.name
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
    /// The fields of a school entity, each declared once (see ``FieldDescriptor``).
    public enum Key {
        /// The ``Field/name`` field.
        public static let name = FieldKey<School, String>("name", .register, .nonEmptyText, column: "name")
        /// The ``Field/reference`` field.
        public static let reference = FieldKey<School, String>("reference", .register, .text, column: "reference")
        /// The ``Field/partnership`` field.
        public static let partnership = FieldKey<School, EntityID>("partnership", .register, .reference, column: "partnership_id")

        /// Every field, in declaration order.
        public static let all: [FieldDescriptor] = [name.descriptor, reference.descriptor, partnership.descriptor]
    }

    /// Field names of a school entity (the names of its ``Key``s).
    public enum Field {
        /// Register, string: the school's name.
        public static let name = Key.name.name
        /// Register, string, optional: the official reference number (such as a URN).
        public static let reference = Key.reference.name
        /// Register, reference to the school's ``Partnership``.
        public static let partnership = Key.partnership.name
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
