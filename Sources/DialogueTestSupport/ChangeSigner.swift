import DialogueModel

/// Signs handcrafted changes as their device would (docs/TRUST.md, "Hash chains"): keeps
/// the device's chain per space and signs a ``ChainHead`` at the end of each run, so
/// tests that push changes by hand push them signed, as a real client does.
public struct ChangeSigner: Sendable {
    public let key: SigningKeyPair
    private var chains: [Key: DeviceChain] = [:]
    /// Every head signed, per chain, in counter order (what a replica keeps to relay).
    private var signed: [Key: [ChainHead]] = [:]

    private struct Key: Hashable, Sendable {
        var space: SpaceID
        var replica: ReplicaID
    }

    public init(key: SigningKeyPair = SigningKeyPair()) {
        self.key = key
    }

    /// Links `changes` (this device's, in counter order, following those signed before)
    /// into their chains and returns one head per space and replica, at the end of the run.
    /// A run that does not link (a gap) signs nothing and leaves the chains as they were.
    public mutating func sign(_ changes: [Change]) throws(TrustError) -> [ChainHead] {
        var touched: [Key] = []
        var linked = chains
        for change in changes {
            let slot = Key(space: change.space, replica: change.replica)
            var chain = linked[slot] ?? DeviceChain(space: change.space, replica: change.replica)
            try chain.advance(over: change)
            linked[slot] = chain
            if !touched.contains(slot) { touched.append(slot) }
        }
        chains = linked
        let heads = touched.map { chains[$0]!.head(signedBy: key) }
        for head in heads { signed[Key(space: head.space, replica: head.replica), default: []].append(head) }
        return heads
    }

    /// Signs each change as its own transaction: one head per change.
    public mutating func signEach(_ changes: [Change]) throws(TrustError) -> [ChainHead] {
        var heads: [ChainHead] = []
        for change in changes { heads += try sign([change]) }
        return heads
    }

    /// The heads to push with `changes`, as a replica's page carries them: the changes
    /// past what was signed before are signed as one transaction per chain, then every
    /// head signed at a counter the changes reach is returned. Pushing the same changes
    /// again returns the same heads; a run cut short of a head gets none (as it would
    /// from a real device), and the server refuses it.
    public mutating func heads(for changes: [Change]) throws(TrustError) -> [ChainHead] {
        var order: [Key] = []
        var runs: [Key: [Change]] = [:]
        for change in changes {
            let slot = Key(space: change.space, replica: change.replica)
            if runs[slot] == nil { order.append(slot) }
            runs[slot, default: []].append(change)
        }
        var heads: [ChainHead] = []
        for slot in order {
            let run = runs[slot]!
            // What was signed before, and copies within the request, are not signed again.
            var reached = chains[slot]?.counter ?? 0
            var fresh: [Change] = []
            for change in run where change.lastCounter > reached {
                fresh.append(change)
                reached = change.lastCounter
            }
            if !fresh.isEmpty { _ = try sign(fresh) }
            let first = run.map(\.id.counter).min()!
            let last = run.map(\.lastCounter).max()!
            heads += (signed[slot] ?? []).filter { first <= $0.counter && $0.counter <= last }
        }
        return heads
    }

    /// Where the chain of `replica` in `space` stands.
    public func chain(of replica: ReplicaID, in space: SpaceID) -> DeviceChain {
        chains[Key(space: space, replica: replica)] ?? DeviceChain(space: space, replica: replica)
    }
}
