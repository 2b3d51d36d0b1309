import DialogueModel

/// Signs handcrafted changes as their device would (docs/TRUST.md, "Hash chains"): keeps
/// the device's chain per space and signs a ``ChainHead`` at the end of each run, so
/// tests that push changes by hand push them signed, as a real client does.
public struct ChangeSigner: Sendable {
    public let key: SigningKeyPair
    private var chains: [Key: DeviceChain] = [:]

    private struct Key: Hashable, Sendable {
        var space: SpaceID
        var replica: ReplicaID
    }

    public init(key: SigningKeyPair = SigningKeyPair()) {
        self.key = key
    }

    /// Links `changes` (this device's, in counter order, following those signed before)
    /// into their chains and returns one head per space and replica, at the end of the run.
    public mutating func sign(_ changes: [Change]) throws(TrustError) -> [ChainHead] {
        var touched: [Key] = []
        for change in changes {
            let slot = Key(space: change.space, replica: change.replica)
            var chain = chains[slot] ?? DeviceChain(space: change.space, replica: change.replica)
            try chain.advance(over: change)
            chains[slot] = chain
            if !touched.contains(slot) { touched.append(slot) }
        }
        return touched.map { chains[$0]!.head(signedBy: key) }
    }

    /// Signs each change as its own transaction: one head per change.
    public mutating func signEach(_ changes: [Change]) throws(TrustError) -> [ChainHead] {
        var heads: [ChainHead] = []
        for change in changes { heads += try sign([change]) }
        return heads
    }

    /// Where the chain of `replica` in `space` stands.
    public func chain(of replica: ReplicaID, in space: SpaceID) -> DeviceChain {
        chains[Key(space: space, replica: replica)] ?? DeviceChain(space: space, replica: replica)
    }
}
