/// The one unit of replication: an operation on one field of one entity in one space.
///
/// A change occupies the counters `id.counter ..< id.counter + counterSpan` of its
/// author in its space. `dependencies` name the latest changes of *other* replicas its
/// author had applied and had not already depended on; with the author's own previous
/// change (implicit) they fix the change's causal past, which receivers respect.
public struct Change: Hashable, Sendable {
    public var id: Dot
    public var timestamp: HLCTimestamp
    public var space: SpaceID
    public var entity: EntityID
    /// The field's name; the entity's lifecycle uses the empty name.
    public var field: String
    public var dependencies: [Dot]
    /// What the change does. Setting it recomputes ``counterSpan``.
    public var operation: Operation {
        get { storedOperation }
        set {
            storedOperation = newValue
            counterSpan = newValue.counterSpan
        }
    }
    private var storedOperation: Operation
    /// How many counters the change occupies (stored: counting a run's scalars is O(n)).
    public private(set) var counterSpan: UInt64
    /// Set when an erasure dropped the change's content: the hash of the content it had
    /// (32 bytes), which its digest links in place of hashing the placeholder operation
    /// now held (see ``erasingContent()``), so that the author's chain still verifies.
    public internal(set) var erasedContentHash: [UInt8]?

    public init(
        id: Dot, timestamp: HLCTimestamp, space: SpaceID, entity: EntityID, field: String, dependencies: [Dot] = [],
        operation: Operation
    ) {
        self.id = id
        self.timestamp = timestamp
        self.space = space
        self.entity = entity
        self.field = field
        self.dependencies = dependencies
        self.storedOperation = operation
        self.counterSpan = operation.counterSpan
    }

    /// Replaces the operation with one known to occupy `span` counters, without recounting.
    mutating func replaceOperation(_ operation: Operation, span: UInt64) {
        storedOperation = operation
        counterSpan = span
    }

    /// The last counter the change occupies. Total, so that it can be asked of any change
    /// received: for a malformed one (an empty operation, or a span past `UInt64.max`,
    /// both refused by ``shapeProblem``) it is the first counter, or `UInt64.max`.
    public var lastCounter: UInt64 {
        guard counterSpan > 0 else { return id.counter }
        let (last, overflow) = id.counter.addingReportingOverflow(counterSpan - 1)
        return overflow ? .max : last
    }

    /// The author.
    public var replica: ReplicaID { id.replica }
}
