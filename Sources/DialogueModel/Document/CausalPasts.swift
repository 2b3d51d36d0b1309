/// What each author could have seen when it made each of its changes: the causal past
/// of every held dot, kept cheaply enough to check every change received against it.
///
/// The causal past of a change by author A starting at counter n is A's own counters
/// below n, the causal past of A's previous change (implicit), and each dependency with
/// its own causal past. Between two changes of A that name dependencies, A's past grows
/// only by A's own counters, so one *checkpoint* per change with dependencies is enough:
/// the past of dot (A, m) is A's checkpoint with the largest counter ≤ m (empty when
/// none), with A's own entry m.
///
/// Recording is lazy, because most changes (keystrokes) name nothing to check: a change
/// with dependencies only appends its counter and dependencies. The other replicas' heads
/// of each checkpoint are worked out when a check first needs a past, for every checkpoint
/// recorded since, in the order recorded. That order is causal (a document applies changes
/// only once their past is held), so each dependency's checkpoint is resolved before the
/// checkpoints that name it, without recursion. Everything is stored flat per author.
struct CausalPasts: Sendable {
    /// One author's checkpoints, ascending by counter.
    private struct Checkpoints: Sendable {
        /// The first counter of each change that named dependencies.
        var counters: [UInt64] = []
        /// Each checkpoint's dependencies, one after another (`dependencyEnds` delimits them).
        var dependencies: [Dot] = []
        var dependencyEnds: [Int] = []
        /// The other replicas' heads of each resolved checkpoint (the first `headEnds.count`),
        /// ascending by replica, one after another.
        var heads: [Dot] = []
        var headEnds: [Int] = []

        /// The index of the checkpoint in effect at `counter`, if any.
        func index(through counter: UInt64) -> Int? {
            guard let last = counters.last else { return nil }
            if last <= counter { return counters.count - 1 }  // the usual case: the latest
            var low = 0
            var high = counters.count
            while low < high {
                let middle = (low + high) >> 1
                if counters[middle] <= counter { low = middle + 1 } else { high = middle }
            }
            return low == 0 ? nil : low - 1
        }

        func heads(at index: Int) -> ArraySlice<Dot> {
            heads[(index == 0 ? 0 : headEnds[index - 1])..<headEnds[index]]
        }

        func dependencies(at index: Int) -> ArraySlice<Dot> {
            dependencies[(index == 0 ? 0 : dependencyEnds[index - 1])..<dependencyEnds[index]]
        }
    }

    private var authors: [ReplicaID: Checkpoints] = [:]
    /// Checkpoints recorded and not resolved yet, in the order recorded (causal).
    private var unresolved: [ReplicaID] = []

    /// Records `change` (applied, causally ready): a checkpoint when it names dependencies.
    mutating func record(_ change: Change) {
        guard !change.dependencies.isEmpty else { return }
        if Self.append(change, to: &authors[change.replica, default: Checkpoints()]) { unresolved.append(change.replica) }
    }

    /// Appends `change`'s checkpoint unless one is recorded at or after its counter already.
    private static func append(_ change: Change, to checkpoints: inout Checkpoints) -> Bool {
        if let last = checkpoints.counters.last, last >= change.id.counter { return false }
        checkpoints.counters.append(change.id.counter)
        checkpoints.dependencies.append(contentsOf: change.dependencies)
        checkpoints.dependencyEnds.append(checkpoints.dependencies.count)
        return true
    }

    /// Works out the heads of every checkpoint recorded since the last call.
    private mutating func resolve() {
        guard !unresolved.isEmpty else { return }
        for replica in unresolved {
            var checkpoints = authors.removeValue(forKey: replica)!
            let index = checkpoints.headEnds.count
            var past = VersionVector(sortedDots: index == 0 ? [] : Array(checkpoints.heads(at: index - 1)))
            for dependency in checkpoints.dependencies(at: index) { fold(dependency, into: &past) }
            past[replica] = 0
            checkpoints.heads.append(contentsOf: past.lastDots)
            checkpoints.headEnds.append(checkpoints.heads.count)
            authors[replica] = checkpoints
        }
        unresolved.removeAll(keepingCapacity: true)
    }

    /// Adds `dot` and its causal past (resolved) to `vector`.
    private func fold(_ dot: Dot, into vector: inout VersionVector) {
        vector.record(dot)
        // Resolved: it was recorded before whatever names it (see `resolve`).
        if let checkpoints = authors[dot.replica], let index = checkpoints.index(through: dot.counter), index < checkpoints.headEnds.count {
            for head in checkpoints.heads(at: index) { vector.record(head) }
        }
    }

    /// The causal past of `change` (which must be causally ready: its author's previous
    /// counter and its dependencies held): everything it may name, its own counters excluded.
    mutating func causalPast(of change: Change) -> VersionVector {
        resolve()
        var vector = VersionVector()
        if change.id.counter > 1 { fold(Dot(change.replica, change.id.counter - 1), into: &vector) }
        for dependency in change.dependencies { fold(dependency, into: &vector) }
        return vector
    }

    /// Whether `dot` lies in the causal past of `change`, without building the vector
    /// when the change names no dependencies (the common case).
    mutating func contains(_ dot: Dot, inPastOf change: Change) -> Bool {
        if dot.replica == change.replica { return dot.counter < change.id.counter }
        guard change.dependencies.isEmpty else { return causalPast(of: change).contains(dot) }
        resolve()
        guard change.id.counter > 1, let checkpoints = authors[change.replica],
            let index = checkpoints.index(through: change.id.counter - 1), index < checkpoints.headEnds.count
        else { return false }
        return dot.counter <= (checkpoints.heads(at: index).first { $0.replica == dot.replica }?.counter ?? 0)
    }
}
