/// What each author could have seen when it made each of its changes: the causal past
/// of every held dot, kept cheaply enough to check every change received against it.
///
/// The causal past of a change by author A starting at counter n is A's own counters
/// below n, the causal past of A's previous change (implicit), and each dependency with
/// its own causal past. Between two changes of A that name dependencies, A's past grows
/// only by A's own counters, so one *checkpoint* per change with dependencies is enough:
/// the past of dot (A, m) is A's checkpoint with the largest counter ≤ m (empty when
/// none), with A's own entry m. Changes without dependencies (a run of keystrokes) cost
/// nothing to record. Checkpoints are stored flat per author (counters, then the other
/// replicas' heads one after another) so that a long history costs a few words per
/// change with dependencies, not a vector object each.
struct CausalPasts: Sendable {
    /// One author's checkpoints, ascending by counter.
    private struct Checkpoints: Sendable {
        /// The first counter of each change that named dependencies.
        var counters: [UInt64] = []
        /// Where each checkpoint's heads end in `heads` (they start where the previous ends).
        var ends: [Int] = []
        /// The other replicas' heads of each checkpoint, ascending by replica.
        var heads: [Dot] = []

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
            heads[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
        }
    }

    private var authors: [ReplicaID: Checkpoints] = [:]

    /// The causal past of dot (`replica`, `counter`): what its author had seen when it
    /// made it, the dot and the author's earlier counters included. Counter 0: nothing.
    func past(of replica: ReplicaID, through counter: UInt64) -> VersionVector {
        var vector = VersionVector()
        guard counter > 0 else { return vector }
        if let checkpoints = authors[replica], let index = checkpoints.index(through: counter) {
            vector = VersionVector(sortedDots: Array(checkpoints.heads(at: index)))
        }
        vector.record(Dot(replica, counter))
        return vector
    }

    /// What `replica`'s counter `counter` had seen of `other` (`other` ≠ `replica`).
    private func head(of other: ReplicaID, inPastOf replica: ReplicaID, through counter: UInt64) -> UInt64 {
        guard counter > 0, let checkpoints = authors[replica], let index = checkpoints.index(through: counter) else { return 0 }
        return checkpoints.heads(at: index).first { $0.replica == other }?.counter ?? 0
    }

    /// The causal past of `change` (which must be causally ready: its author's previous
    /// counter and its dependencies held): everything it may name, its own counters excluded.
    func causalPast(of change: Change) -> VersionVector {
        var vector = past(of: change.replica, through: change.id.counter - 1)
        for dependency in change.dependencies {
            // The dependency's past, folded in without building a vector for it.
            vector.record(dependency)
            if let checkpoints = authors[dependency.replica], let index = checkpoints.index(through: dependency.counter) {
                for head in checkpoints.heads(at: index) { vector.record(head) }
            }
        }
        return vector
    }

    /// Whether `dot` lies in the causal past of `change`, without building the vector
    /// when the change names no dependencies (the common case).
    func contains(_ dot: Dot, inPastOf change: Change) -> Bool {
        if dot.replica == change.replica { return dot.counter < change.id.counter }
        guard change.dependencies.isEmpty else { return causalPast(of: change).contains(dot) }
        return dot.counter <= head(of: dot.replica, inPastOf: change.replica, through: change.id.counter - 1)
    }

    /// Records `change` (applied, causally ready): a checkpoint when it names dependencies.
    mutating func record(_ change: Change) {
        guard !change.dependencies.isEmpty else { return }
        var past = causalPast(of: change)
        past[change.replica] = 0
        var checkpoints = authors.removeValue(forKey: change.replica) ?? Checkpoints()
        if let last = checkpoints.counters.last, last >= change.id.counter {
            authors[change.replica] = checkpoints  // recorded already (changes arrive in counter order)
            return
        }
        if let last = checkpoints.counters.indices.last, checkpoints.heads(at: last).elementsEqual(past.lastDots) {
            authors[change.replica] = checkpoints  // nothing new (a trimmed change, or dependencies already covered)
            return
        }
        checkpoints.counters.append(change.id.counter)
        checkpoints.heads.append(contentsOf: past.lastDots)
        checkpoints.ends.append(checkpoints.heads.count)
        authors[change.replica] = checkpoints
    }
}
