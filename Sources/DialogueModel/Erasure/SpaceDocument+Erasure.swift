/// The erasures a document holds, indexed by what they erase (see ``Erasure``).
struct ErasureIndex: Sendable {
    /// Every erasure applied, in application order.
    var all: [(dot: Dot, erasure: Erasure)] = []
    var entities: [EntityID: [Dot]] = [:]
    var fields: [FieldRef: [Dot]] = [:]
    var replicas: [ReplicaID: [Dot]] = [:]

    var isEmpty: Bool { all.isEmpty }

    mutating func record(_ erasure: Erasure, dot: Dot) {
        all.append((dot, erasure))
        switch erasure.target {
        case .entity(let entity): entities[entity, default: []].append(dot)
        case .field(let entity, let field): fields[FieldRef(entity, field), default: []].append(dot)
        case .contributions(_, let erased): for replica in erased { replicas[replica, default: []].append(dot) }
        }
    }
}

extension SpaceDocument {
    /// The erasures applied, in application order: their dots and what they erase.
    public var erasures: [(dot: Dot, erasure: Erasure)] { erasureIndex.all }

    /// Whether an erasure applied erased `entity` itself: it is never shown again.
    public func isErased(_ entity: EntityID) -> Bool {
        !erasureIndex.entities.isEmpty && erasureIndex.entities[entity] != nil
    }

    /// Whether an erasure this document holds erases `change`'s content (see ``Erasure``
    /// for the rule). `change` must be applied or causally ready: whether it was made
    /// after an erasure is read from its causal past. A change without content (and an
    /// erasure itself) is never erased.
    public mutating func erases(_ change: Change) -> Bool {
        guard !erasureIndex.isEmpty, change.carriesContent else { return false }
        if erasureIndex.entities[change.entity] != nil { return true }
        if let dots = erasureIndex.fields[FieldRef(change.entity, change.field)], notAfterAll(dots, change) { return true }
        if let dots = erasureIndex.replicas[change.replica], notAfterAll(dots, change) { return true }
        return false
    }

    /// Whether some erasure of `dots` is missing from `change`'s causal past (made before
    /// or concurrently with the change's author seeing it).
    private mutating func notAfterAll(_ dots: [Dot], _ change: Change) -> Bool {
        dots.contains { !causalPasts.contains($0, inPastOf: change) }
    }

    /// `changes` (applied, in a causal order: a stored log) with every change an erasure
    /// erases stripped of its content, and how many were stripped just now: what a store
    /// rewrites after applying an erasure.
    public mutating func strippingErased(_ changes: [Change]) -> (changes: [Change], stripped: Int) {
        guard !erasureIndex.isEmpty else { return (changes, 0) }
        var stripped = 0
        var result = changes
        for index in result.indices where !result[index].isContentErased && erases(result[index]) {
            result[index] = result[index].erasingContent()
            stripped += 1
        }
        return (result, stripped)
    }
}

extension SpaceDocument {
    /// Writes an erasure as a local edit. The document still holds the erased content
    /// afterwards: the store then rewrites its log with ``strippingErased(_:)`` and
    /// rebuilds the document from it (``rebuilt(from:)``), as after receiving one.
    public mutating func erase(_ erasure: Erasure, by context: EditContext) -> Change {
        commitLocal(erasure.entity, "", .erase(erasure), context)
    }

    /// A document holding `log` (changes accepted once, in a causal order, as stored)
    /// and this document's waiting changes, settled (``settleWaiting()``): what a store
    /// builds after rewriting its log for an erasure, so that no erased content stays in
    /// memory either.
    public func rebuilt(from log: [Change]) throws(ChangeError) -> SpaceDocument {
        var fresh = SpaceDocument(space: space)
        try fresh.replay(log)
        for change in pendingChanges { _ = try? fresh.apply(change) }  // they wait there too
        fresh.settleWaiting()
        return fresh
    }

    /// Settles the changes waiting for their causal past against the erasures held, so
    /// that no erased words wait on disk for a past that may never come:
    /// - one to an erased entity waits stripped (an entity's erasure covers every change to it);
    /// - one an erasure of its field or of its author's contributions may cover is dropped,
    ///   unless its past, as far as it is held, already shows it was made after every such
    ///   erasure (then no erasure covers it and it waits as it is). Whether a change made
    ///   concurrently is covered can only be judged once its whole past is held; until then
    ///   its words are not kept. It is not held (the version vector does not count it), so
    ///   the next sync or bundle that carries it brings it again, and it is judged then,
    ///   by the exact rule (``erases(_:)``), stripped on arrival if covered.
    ///
    /// - Returns: how many waiting changes were stripped, and the dots of those dropped.
    @discardableResult
    public mutating func settleWaiting() -> (stripped: Int, dropped: [Dot]) {
        guard !erasureIndex.isEmpty, !pending.isEmpty else { return (0, []) }
        var stripped = 0
        var dropped: [Dot] = []
        for replica in pending.keys.sorted() {
            var kept: [Change] = []
            for change in pending[replica]! {
                guard change.carriesContent, !change.isContentErased else {
                    kept.append(change)
                    continue
                }
                if isErased(change.entity) {
                    kept.append(change.erasingContent())
                    stripped += 1
                } else if mayBeErased(waiting: change) {
                    dropped.append(change.id)
                } else {
                    kept.append(change)
                }
            }
            pending[replica] = kept.isEmpty ? nil : kept
        }
        return (stripped, dropped)
    }

    /// Whether an erasure of `change`'s field or of its author's contributions is not
    /// shown in the part of `change`'s causal past held (a lower bound of its past:
    /// ``CausalPasts`` folds only what is held), so that it may cover the change.
    private mutating func mayBeErased(waiting change: Change) -> Bool {
        let dots = (erasureIndex.fields[FieldRef(change.entity, change.field)] ?? []) + (erasureIndex.replicas[change.replica] ?? [])
        return notAfterAll(dots, change)
    }
}
