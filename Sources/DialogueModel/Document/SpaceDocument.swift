import Foundation

/// The pure, in-memory state of one space: every entity and field, merged from changes.
///
/// Applying a change is idempotent and changes commute: changes may arrive in any
/// order and any number of times. A change whose causal past has not arrived yet
/// (its author's previous change or a named dependency) is buffered and applied as
/// soon as it can be. Two documents that applied the same set of changes produce the
/// same ``canonicalExport()``, byte for byte.
public struct SpaceDocument: Sendable {
    /// The space this document holds.
    public let space: SpaceID
    /// What has been applied: per replica, the highest counter.
    public internal(set) var vector = VersionVector()
    /// Entities by identifier: kind, deletion and which edits they have seen; the most
    /// recent edit may still sit in `unrecordedEdit` (see ``lifecycle(of:)``).
    var entityStore: [EntityID: EntityLifecycle] = [:]
    /// The latest edit not yet folded into `entityStore`: while someone types into one
    /// entity, recording each keystroke there would hash its ID every time.
    var unrecordedEdit: (entity: EntityID, dot: Dot)?
    var registers: [FieldRef: LWWRegister<FieldValue>] = [:]
    var sets: [FieldRef: ORSet<FieldValue>] = [:]
    var textStore = FieldStore<TextSequence>()
    /// While set, the texts are lent out and text changes queue here (see ``lendTexts()``).
    var textLoan: TextLoan?
    var lists: [FieldRef: MovableList<FieldValue>] = [:]
    /// Changes waiting for their causal past, per author, sorted by counter.
    var pending: [ReplicaID: [Change]] = [:]
    /// For each local author, the vector its dependencies already cover.
    var coveredByLocalAuthor: [ReplicaID: VersionVector] = [:]
    /// Bumped whenever a change from elsewhere is applied; lets a run of local edits
    /// skip recomputing dependencies when nothing new has arrived.
    var remoteGeneration = 0
    var dependenciesCheckedAt: (replica: ReplicaID, generation: Int)?
    /// When set, every change applied (local or remote, trimmed as applied) is appended,
    /// in application order: what a storage layer writes to its log. (After
    /// `startJournal(omittingVerbatimHead: true)`, all but a counted head: see `verbatimJournalHead`.)
    public var journal: [Change]?
    /// How many applied changes were left out of `journal`'s head because they were the
    /// changes handed to ``apply(_:)``, whole and in order (see ``startJournal(omittingVerbatimHead:)``).
    package internal(set) var verbatimJournalHead = 0
    /// Whether the changes applied so far are exactly the changes handed over, so far.
    var countingVerbatimJournalHead = false
    /// The dot most recently recorded in `vector` (so `vector[last.replica] == last.counter`).
    var lastRecorded: Dot?
    /// What each author could have seen, for checking what changes name (see `CausalPasts`).
    var causalPasts = CausalPasts()
    /// The erasures applied (see ``Erasure``, ``erases(_:)``).
    var erasureIndex = ErasureIndex()
    /// Off while replaying changes accepted once already (``replay(_:)``).
    var checksHistory = true
    /// Buffered changes that turned out invalid when their turn came, with the reason.
    public internal(set) var quarantined: [(change: Change, error: ChangeError)] = []
    /// Whether ``apply(_:)`` refuses changes that break their field's descriptor
    /// (``valueProblem(of:)``). Off while replaying changes accepted once already
    /// (``replay(_:)``), which may hold values written by a version that did not check
    /// them: refusing them there would lose the changes after them.
    var checksFieldValues = true
    /// The entity whose field a change last checked, and its kind then: a merge brings runs
    /// of changes to one entity (a typed note), so one lookup serves the run. Forgotten
    /// whenever a creation applies (the only thing that changes a kind).
    var lastCheckedKind: (entity: EntityID, kind: EntityKind?)?

    /// How the space's texts order concurrent insertions: fixed by the space's id.
    public let textOrder: InsertionOrder

    public init(space: SpaceID) {
        self.space = space
        textOrder = InsertionOrder(textIn: space)
    }

    /// The text fields. Reaching them while they are lent out (``lendTexts()``) is a bug, and traps.
    var texts: FieldStore<TextSequence> {
        get {
            precondition(textLoan == nil, "texts read while lent out")
            return textStore
        }
        _modify {
            precondition(textLoan == nil, "texts changed while lent out")
            yield &textStore
        }
    }

    /// Every entity's lifecycle (a copy, complete with the latest edit).
    public var entities: [EntityID: EntityLifecycle] {
        var all = entityStore
        if let edit = unrecordedEdit { all[edit.entity, default: EntityLifecycle()].edits.record(edit.dot) }
        return all
    }

    /// One entity's lifecycle, complete with the latest edit.
    public func lifecycle(of entity: EntityID) -> EntityLifecycle? {
        guard let edit = unrecordedEdit, edit.entity == entity else { return entityStore[entity] }
        var lifecycle = entityStore[entity] ?? EntityLifecycle()
        lifecycle.edits.record(edit.dot)
        return lifecycle
    }

    /// Notes an edit to an entity's fields.
    mutating func recordEdit(of entity: EntityID, _ dot: Dot) {
        if let edit = unrecordedEdit {
            if edit.entity == entity, edit.dot.replica == dot.replica {
                unrecordedEdit = (entity, dot)
                return
            }
            entityStore[edit.entity, default: EntityLifecycle()].edits.record(edit.dot)
        }
        unrecordedEdit = (entity, dot)
    }

    /// The changes waiting for their causal past, by author and counter.
    public var pendingChanges: [Change] {
        pending.keys.sorted().flatMap { pending[$0]! }
    }

    /// The number of changes waiting for their causal past.
    public var pendingCount: Int { pending.values.reduce(0) { $0 + $1.count } }
}

/// A field of an entity.
public struct FieldRef: Hashable, Sendable, Comparable {
    public var entity: EntityID
    public var field: String

    public init(_ entity: EntityID, _ field: String) {
        self.entity = entity
        self.field = field
    }

    /// Field names compare by their UTF-8 bytes, not canonical equivalence, so that two
    /// names that merely look alike never share (or fight over) one field.
    public static func == (lhs: FieldRef, rhs: FieldRef) -> Bool {
        lhs.entity == rhs.entity && sameUTF8(lhs.field, rhs.field)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entity)
        hashUTF8(of: field, into: &hasher)
    }

    public static func < (lhs: FieldRef, rhs: FieldRef) -> Bool {
        lhs.entity != rhs.entity ? lhs.entity < rhs.entity : lhs.field.utf8.lexicographicallyPrecedes(rhs.field.utf8)
    }
}

/// Whether two strings have the same UTF-8 bytes (not merely canonical equivalence),
/// compared with one `memcmp` when both are contiguous, as native strings are.
func sameUTF8(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    let fast = a.utf8.withContiguousStorageIfAvailable { left in
        b.utf8.withContiguousStorageIfAvailable { right in
            left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
        }
    }
    if let fast, let result = fast { return result }
    return a.utf8.elementsEqual(b.utf8)
}

/// Hashes a string's UTF-8 bytes in one call (native strings are contiguous).
func hashUTF8(of string: String, into hasher: inout Hasher) {
    hasher.combine(string.utf8.count)
    if string.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
        for byte in string.utf8 { hasher.combine(byte) }
    }
}

/// An entity's kind and deletion state.
public struct EntityLifecycle: Sendable {
    /// The kind, as written by `create` (a register, so a duplicate create converges).
    public var kind = LWWRegister<String>()
    /// The creations that overwrote no earlier one (a `create` with no predecessors), in
    /// last-writer-wins order: whose the entity is. A re-creation (after a delete) names
    /// what it overwrote and is never one, so it cannot take an entity's authorship; an
    /// honest entity has exactly one (its id is fresh), so more than one from different
    /// members means its authorship is disputed (docs/TRUST.md, "Authorship").
    public private(set) var originalCreations: [LWWRegister<String>.Write] = []
    /// Records a creation that overwrote nothing (idempotent; order-independent).
    mutating func recordOriginalCreation(_ write: LWWRegister<String>.Write) {
        guard !originalCreations.contains(where: { $0.dot == write.dot }) else { return }
        originalCreations.append(write)
        originalCreations.sort { ($0.timestamp, $0.dot.replica, $0.dot.counter) < ($1.timestamp, $1.dot.replica, $1.dot.counter) }
    }

    /// The devices of ``originalCreations``, each once, ascending.
    public var originalCreators: [ReplicaID] { Set(originalCreations.map(\.dot.replica)).sorted() }

    /// Every deletion: who, when, and what the deleter had seen.
    public var deletions: [Deletion] = []
    /// The newest counter per author of any edit to the entity's fields.
    public var edits = VersionVector()

    /// One deletion of an entity.
    public struct Deletion: Hashable, Sendable {
        public var dot: Dot
        public var timestamp: HLCTimestamp
        public var observed: VersionVector
    }

    /// Deleted when some deletion had seen every edit; an edit its deleter had not seen
    /// (concurrent, or made later) keeps the entity, and the deletion becomes a conflict.
    public var isDeleted: Bool {
        deletions.contains { deletion in
            edits.lastDots.allSatisfy { deletion.observed.contains($0) }
        }
    }

    /// Deletions overruled by an edit their author had not seen.
    public var overruledDeletions: [Deletion] {
        deletions.filter { deletion in
            !edits.lastDots.allSatisfy { deletion.observed.contains($0) }
        }
    }
}
