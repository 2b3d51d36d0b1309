import Crypto
import Foundation

/// A device's hash chain in one space: where it stands (``counter``, the last counter of
/// the last change linked) and the chain hash there (docs/TRUST.md, "Hash chains"):
/// `h(0)` is 32 zero bytes and `h(c) = SHA-256("dialogue/chain/1" ‖ h(previous) ‖ digest(c))`.
///
/// The author advances it over each change it writes and signs a ``ChainHead`` at the
/// end of each transaction; a verifier advances its own copy over the changes received
/// and compares with the heads (``ChainVerifier``).
public struct DeviceChain: Hashable, Sendable, CustomStringConvertible {
    /// The hash before any change: 32 zero bytes.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    public let space: SpaceID
    public let replica: ReplicaID
    /// The last counter linked (0: none).
    public private(set) var counter: UInt64
    /// The chain hash after the change ending at ``counter`` (32 bytes).
    public private(set) var hash: [UInt8]

    /// The empty chain of `replica` in `space`.
    public init(space: SpaceID, replica: ReplicaID) {
        self.init(space: space, replica: replica, counter: 0, hash: Self.genesisHash)
    }

    /// A chain resumed where it stood (as stored after a verified run or a signed transaction).
    public init(space: SpaceID, replica: ReplicaID, counter: UInt64, hash: [UInt8]) {
        self.space = space
        self.replica = replica
        self.counter = counter
        self.hash = hash
    }

    /// Links one change: it must be this chain's replica's, in this space, starting right
    /// after ``counter``.
    /// - Throws: ``TrustError/counterGap(_:held:first:)`` when it does not start at
    ///   `counter + 1`; ``TrustError/badSignature(replica:counter:reason:)`` when it is of
    ///   another device or space, or occupies no counter (nothing could sign it).
    public mutating func advance(over change: Change) throws(TrustError) {
        var hasher = ChangeHasher()
        var current = hash
        try link(change, hasher: &hasher, hash: &current)
        hash = current
    }

    /// Links many changes in counter order: the fast path (one scratch buffer, no
    /// allocation per change). On a throw, the chain is left where it was.
    public mutating func advance(over changes: some Sequence<Change>) throws(TrustError) {
        var copy = self
        var hasher = ChangeHasher()
        var current = ChainHash(hash)
        for change in changes { try copy.link(change, hasher: &hasher, hash: &current) }
        copy.hash = current.bytes
        self = copy
    }

    /// Links many changes in counter order whose digests were computed ahead
    /// (``ChangeDigest/of(_:)``, `digests[i]` the digest of `changes[i]`): only the link
    /// hashes are computed here. Refuses exactly what linking them one by one refuses; on a throw, the chain is left where it was.
    /// - Precondition: `digests` are those of `changes`, in order.
    public mutating func advance(over changes: ArraySlice<Change>, digests: ArraySlice<ChangeDigest>) throws(TrustError) {
        precondition(changes.count == digests.count, "one digest per change")
        var copy = self
        var current = ChainHash(hash)
        var digest = digests.startIndex
        for change in changes {
            precondition(digests[digest].id == change.id, "the digests are not those of the changes")
            try copy.check(change)
            current.set(ChangeHasher.link(current, digests[digest].value))
            copy.counter = change.lastCounter
            digest += 1
        }
        copy.hash = current.bytes
        self = copy
    }

    /// The ``ChainHead`` of where the chain stands, signed by the device's key: what a
    /// device makes at the end of each local transaction.
    public func head(signedBy deviceKey: SigningKeyPair) -> ChainHead {
        .issue(space: space, replica: replica, counter: counter, hash: hash, signedBy: deviceKey)
    }

    public var description: String { "chain of \(replica) in \(space) at \(counter)" }

    private mutating func link<Hash: ChainHashStorage>(
        _ change: Change, hasher: inout ChangeHasher, hash: inout Hash
    ) throws(TrustError) {
        try check(change)
        let digest = hasher.digest(of: change)
        hash.set(ChangeHasher.link(hash, digest))
        counter = change.lastCounter
    }

    /// Whether `change` may extend the chain where it stands (see ``advance(over:)``).
    private func check(_ change: Change) throws(TrustError) {
        guard change.replica == replica, change.space == space else {
            throw .badSignature(
                replica: change.replica, counter: change.id.counter,
                reason: "change \(change.id) in space \(change.space) cannot extend the chain of \(replica) in space \(space)")
        }
        guard change.id.counter == counter &+ 1, counter < .max else {
            throw .counterGap(replica, held: counter, first: change.id.counter)
        }
        guard change.counterSpan > 0, change.counterSpan - 1 <= UInt64.max - change.id.counter else {
            throw .badSignature(
                replica: replica, counter: change.id.counter,
                reason: "change \(change.id) occupies no counter, or runs past the largest counter")
        }
    }
}

/// Where a chain hash is kept while linking: an array (one change) or a digest value (many).
private protocol ChainHashStorage: ContiguousBytes {
    mutating func set(_ digest: SHA256Digest)
}

extension [UInt8]: ChainHashStorage {
    fileprivate mutating func set(_ digest: SHA256Digest) { self = digest.bytes }
}

/// A chain hash held by value, so linking many changes allocates nothing.
private struct ChainHash: ChainHashStorage {
    private var digest: SHA256Digest?
    private var initial: [UInt8]

    init(_ bytes: [UInt8]) {
        initial = bytes
    }

    mutating func set(_ digest: SHA256Digest) { self.digest = digest }

    var bytes: [UInt8] { digest?.bytes ?? initial }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let digest { try digest.withUnsafeBytes(body) } else { try initial.withUnsafeBytes(body) }
    }
}
