import Crypto
import Foundation

/// A change's place in its author's hash chain (docs/TRUST.md, "Hash chains"):
///
/// ```
/// contentHash(c) = SHA-256(tag "dialogue/change-content/1" ‖ canonical operation bytes)
/// digest(c)      = SHA-256(tag "dialogue/change/1" ‖ replica ‖ first counter ‖ counter span
///                          ‖ hlc wall ms ‖ hlc logical ‖ space ‖ entity ‖ field
///                          ‖ dependencies (count, then replica ‖ counter each, as listed)
///                          ‖ contentHash(c))
/// ```
/// Tags are length-prefixed ASCII, as in statements; the content is hashed apart so that
/// an erased change's content can be dropped while its digest stays computable.
extension Change {
    /// SHA-256 of the change's operation (32 bytes); for a change whose content was
    /// erased, the hash of the content it had (``erasedContentHash``).
    public var contentHash: [UInt8] {
        if let erasedContentHash { return erasedContentHash }
        var hasher = ChangeHasher()
        return hasher.contentHash(of: operation).bytes
    }

    /// SHA-256 of the change's metadata and ``contentHash`` (32 bytes): what the chain links.
    public var digest: [UInt8] {
        var hasher = ChangeHasher()
        return hasher.digest(of: self).bytes
    }
}

/// A change's ``Change/digest``, computed ahead of linking: `digest(c)` depends on the change
/// alone (only the link is sequential), so a verifier or an author may compute the digests
/// of many changes elsewhere, on another core, and link them in order with
/// ``DeviceChain/advance(over:digests:)``. Only ever computed by the party that links: a
/// digest received from elsewhere proves nothing.
public struct ChangeDigest: @unchecked Sendable, Equatable {  // SHA256Digest: 32 bytes held inline, not marked Sendable
    /// The change it is the digest of (linking checks it is given with that change).
    let id: Dot
    let value: SHA256Digest

    /// The digest of `change`.
    public init(of change: Change) {
        var hasher = ChangeHasher()
        self.init(change, hasher: &hasher)
    }

    init(_ change: Change, hasher: inout ChangeHasher) {
        id = change.id
        value = hasher.digest(of: change)
    }

    /// The digests of `changes`, in their order, through one scratch buffer.
    public static func of(_ changes: some Collection<Change>) -> [ChangeDigest] {
        var hasher = ChangeHasher()
        var digests: [ChangeDigest] = []
        digests.reserveCapacity(changes.count)
        for change in changes { digests.append(ChangeDigest(change, hasher: &hasher)) }
        return digests
    }
}

/// Hashes changes through one reused scratch buffer: the chain's fast path allocates
/// nothing per change once the buffer has grown.
struct ChangeHasher {
    static let contentTag = ByteWriter.statement("dialogue/change-content/1").bytes
    static let changeTag = ByteWriter.statement("dialogue/change/1").bytes
    static let chainTag = ByteWriter.statement("dialogue/chain/1").bytes

    private var scratch = ByteWriter()

    mutating func contentHash(of operation: Operation) -> SHA256Digest {
        scratch.bytes.removeAll(keepingCapacity: true)
        scratch.raw(Self.contentTag)
        operation.writeCanonical(to: &scratch)
        return Self.sha256(scratch.bytes)
    }

    mutating func digest(of change: Change) -> SHA256Digest {
        let computed = change.erasedContentHash == nil ? contentHash(of: change.operation) : nil
        scratch.bytes.removeAll(keepingCapacity: true)
        scratch.raw(Self.changeTag)
        scratch.replica(change.id.replica)
        scratch.varint(change.id.counter)
        scratch.varint(change.counterSpan)
        scratch.time(Int64(bitPattern: change.timestamp.wallTime))
        scratch.varint(UInt64(change.timestamp.logical))
        scratch.uuid(change.space.uuid)
        scratch.uuid(change.entity.uuid)
        scratch.string(change.field)
        scratch.dots(change.dependencies)
        if let computed {
            computed.withUnsafeBytes { scratch.bytes.append(contentsOf: $0) }
        } else {
            scratch.raw(change.erasedContentHash!)  // kept when the content was erased
        }
        return Self.sha256(scratch.bytes)
    }

    /// `h(c) = SHA-256(tag "dialogue/chain/1" ‖ h(previous) ‖ digest(c))`.
    static func link(_ previous: some ContiguousBytes, _ digest: some ContiguousBytes) -> SHA256Digest {
        var hasher = SHA256()
        chainTag.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        previous.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        digest.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize()
    }

    static func sha256(_ bytes: [UInt8]) -> SHA256Digest {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize()
    }
}

extension SHA256Digest {
    /// The 32 bytes.
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
