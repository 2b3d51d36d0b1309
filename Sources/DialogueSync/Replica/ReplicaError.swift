import DialogueModel
import GRDB

/// Why a replica refused an operation. A refused operation changes nothing.
///
/// An extensible error, like GRDB's `DatabaseError` or swift-nio's: compare its ``code``
/// (a stable string, new codes can be added without breaking anyone's `switch`), show its
/// ``message``, and read the context it names (``entity``, ``space``, ``change``…). A
/// failure of the database keeps GRDB's error in ``underlying`` (see ``databaseError``
/// for its SQLite result code):
///
/// ```swift
/// do {
///     try await replica.edit(in: space) { try $0.set(DialogueSession.Field.title, of: session, to: .string(title)) }
/// } catch let error as ReplicaError where error.code == .entityNotFound {
///     showGone(error.entity)
/// } catch let error as ReplicaError where error.databaseError?.resultCode == .SQLITE_FULL {
///     showDiskFull()
/// }
/// ```
public struct ReplicaError: Error, Sendable, CustomStringConvertible {
    /// What kind of refusal: a stable string (`entity_not_found`, `storage`…) that scripts
    /// and apps may compare. The codes shared with the sync server (`invalid_value`,
    /// `space_not_permitted`, `not_logged_in`…) mean the same refusal there.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The stable string, `snake_case`.
        public let rawValue: String

        /// Creates a code from its stable string.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The stable string.
        public var description: String { rawValue }

        /// No entity with the identifier exists in the space (or its creation has not arrived).
        public static let entityNotFound = Code(rawValue: "entity_not_found")
        /// The entity is of another kind than the operation needs (or of a kind this version does not know).
        public static let wrongKind = Code(rawValue: "wrong_kind")
        /// The field does not exist on this kind of entity, or is not of the type the operation needs.
        public static let invalidField = Code(rawValue: "invalid_field")
        /// A value the operation cannot accept (empty title, malformed date…).
        public static let invalidValue = Code(rawValue: "invalid_value")
        /// A position outside the text or list.
        public static let invalidPosition = Code(rawValue: "invalid_position")
        /// A remote change was refused, and the whole batch with it; ``ReplicaError/rejection``
        /// holds the code the server gives the same refusal.
        public static let changeRejected = Code(rawValue: "change_rejected")
        /// The space is not held by this replica.
        public static let unknownSpace = Code(rawValue: "unknown_space")
        /// What a person typed for a space matches no space this replica holds or its directory lists.
        public static let spaceNotFound = Code(rawValue: "space_not_found")
        /// A space name matches several spaces.
        public static let ambiguousSpaceName = Code(rawValue: "ambiguous_space_name")
        /// A bundle file could not be read.
        public static let invalidBundle = Code(rawValue: "invalid_bundle")
        /// The database or a file failed (disk full, file damaged, permissions…); the cause is
        /// in ``ReplicaError/underlying`` when there is one.
        public static let storage = Code(rawValue: "storage")
        /// An edit names as its writer another member than the one this device is certified for.
        public static let authorNotCertified = Code(rawValue: "author_not_certified")
        /// Received changes do not verify; ``ReplicaError/trustCode`` says why (`bad_signature`…).
        public static let unverifiedChanges = Code(rawValue: "unverified_changes")
        /// The operation needs what the first login brings (pinned server key, certificate, directory).
        public static let notLoggedIn = Code(rawValue: "not_logged_in")
        /// A bundle carries a space this member may not hold.
        public static let spaceNotPermitted = Code(rawValue: "space_not_permitted")
        /// A stored row holds what no version of Dialogue writes there.
        public static let damagedReplica = Code(rawValue: "damaged_replica")
        /// This device may not write the erasure asked for (or its approval does not verify).
        public static let erasureNotPermitted = Code(rawValue: "erasure_not_permitted")
    }

    /// What kind of refusal (compare it; it is stable).
    public let code: Code
    /// What is wrong and what to do, for a person.
    public let message: String
    /// The entity the refusal is about, when there is one (not found, wrong kind, the
    /// author an edit claimed).
    public let entity: EntityID?
    /// The space the refusal is about, when there is one.
    public let space: SpaceID?
    /// The refused change, for ``Code/changeRejected``.
    public let change: Dot?
    /// The code the server gives the same refusal of a change (`invalid_value`,
    /// `impossible_history`…), for ``Code/changeRejected``.
    public let rejection: RejectionCode?
    /// What a person typed for a space, for ``Code/spaceNotFound`` and ``Code/ambiguousSpaceName``.
    public let input: String?
    /// The spaces a person may choose from: those known (``Code/spaceNotFound``) or those
    /// matching (``Code/ambiguousSpaceName``); empty otherwise.
    public let candidates: [NamedSpace]
    /// The error that caused this one, kept as it was thrown: GRDB's `DatabaseError` for a
    /// database failure, a `TrustError` for a refusal of trust, a ``DamagedRow``.
    public let underlying: (any Error)?

    /// Creates an error; prefer the static functions named after each refusal
    /// (``entityNotFound(_:)``…), which write the message.
    public init(
        code: Code, message: String, entity: EntityID? = nil, space: SpaceID? = nil, change: Dot? = nil,
        rejection: RejectionCode? = nil, input: String? = nil, candidates: [NamedSpace] = [], underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.entity = entity
        self.space = space
        self.change = change
        self.rejection = rejection
        self.input = input
        self.candidates = candidates
        self.underlying = underlying
    }

    /// The message.
    public var description: String { message }

    /// The stable code of a trust refusal (`bad_signature`…), `nil` for other errors.
    public var trustCode: String? { (underlying as? TrustError)?.code }

    /// The database's error behind a ``Code/storage`` failure, with its SQLite
    /// `resultCode` and `extendedResultCode`; `nil` when the failure was not the database's.
    public var databaseError: DatabaseError? {
        switch underlying {
        case let error as DatabaseError: error
        case let error as ReplicaError: error.databaseError
        default: nil
        }
    }

    /// Maps a failure met reading or writing the database: a damaged row keeps its
    /// details, anything else becomes ``storage(_:underlying:)`` keeping the error.
    init(storageFailure error: any Error) {
        switch error {
        case let error as ReplicaError: self = error
        case let row as DamagedRow: self = .damagedRow(row)
        default: self = .storage("\(error)", underlying: error)
        }
    }
}

extension ReplicaError: Equatable {
    /// Two errors are equal when their code, message and context are; the underlying
    /// errors are not compared (their descriptions are part of the message).
    public static func == (lhs: ReplicaError, rhs: ReplicaError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.entity == rhs.entity && lhs.space == rhs.space
            && lhs.change == rhs.change && lhs.rejection == rhs.rejection && lhs.input == rhs.input
            && lhs.candidates == rhs.candidates
    }
}
