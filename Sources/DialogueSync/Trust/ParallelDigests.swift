import DialogueModel
import Dispatch
import Foundation

/// The digests of a large batch of changes, computed on every core: a change's digest
/// depends on it alone (docs/TRUST.md, "Hash chains"), only the link is sequential, so the
/// batch is cut into one chunk per core and the verifier then only links, in order. The
/// digests, and so every verdict, are those one core would compute.
enum ParallelDigests {
    /// Below this many changes per core, spreading the work costs more than it saves.
    static let changesPerCore = 512

    /// The digests of `changes` in their order, or `nil` when the batch is too small to
    /// share out (the verifier computes them as it links).
    static func of(_ changes: [Change]) -> [ChangeDigest]? {
        let cores = min(ProcessInfo.processInfo.activeProcessorCount, changes.count / changesPerCore)
        guard cores > 1 else { return nil }
        let chunk = (changes.count + cores - 1) / cores
        let results = Chunks(count: cores)
        DispatchQueue.concurrentPerform(iterations: cores) { index in
            let range = (index * chunk)..<min((index + 1) * chunk, changes.count)
            results.set(index, ChangeDigest.of(changes[range]))
        }
        return results.joined()
    }

    /// One slot per chunk, each written by one worker of `concurrentPerform` (which returns
    /// only once all have finished), read after: raw storage, so no worker touches another's.
    private final class Chunks: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<[ChangeDigest]>

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: [])
        }

        deinit {
            _ = slots.deinitialize()
            slots.deallocate()
        }

        func set(_ index: Int, _ digests: [ChangeDigest]) { slots[index] = digests }

        func joined() -> [ChangeDigest] { Array(slots.joined()) }
    }
}
