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
    /// SHA-256 of the change's operation (32 bytes).
    public var contentHash: [UInt8] {
        var hasher = ChangeHasher()
        return hasher.contentHash(of: operation).bytes
    }

    /// SHA-256 of the change's metadata and ``contentHash`` (32 bytes): what the chain links.
    public var digest: [UInt8] {
        var hasher = ChangeHasher()
        return hasher.digest(of: self).bytes
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
        let content = contentHash(of: change.operation)
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
        content.withUnsafeBytes { scratch.bytes.append(contentsOf: $0) }
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
