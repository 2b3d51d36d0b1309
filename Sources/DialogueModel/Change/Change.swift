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

    /// The last counter the change occupies.
    public var lastCounter: UInt64 { id.counter + counterSpan - 1 }

    /// The author.
    public var replica: ReplicaID { id.replica }
}
