import DialogueModel
import Foundation

/// A thread that integrates a document's lent texts (`SpaceDocument.lendTexts()`) while
/// the merge applies everything else, in the order the document queued the changes; the
/// texts come back with ``finish()``. The document itself stays a value in the pure core:
/// the thread and its lock live here, in the merge pipeline (``TextThreads``).
final class TextIntegrationThread: @unchecked Sendable {
    /// How far the merge may run ahead before it waits, bounding the memory queued.
    private static let maximumQueuedBatches = 32

    private let shared: Shared

    /// What the thread holds while it runs; it is freed once the thread has exited (tests
    /// watch it through a weak reference).
    var threadState: AnyObject { shared }

    /// Starts the thread, which holds `texts` until ``finish()``.
    init(texts: consuming FieldStore<TextSequence>) {
        shared = Shared(texts: texts)
        let shared = self.shared
        Thread.detachNewThread { shared.run() }
    }

    /// Stops the thread if the merge was dropped without finishing (a merge that failed):
    /// queued work is abandoned.
    deinit { shared.close() }

    /// Queues text changes taken from the document (`SpaceDocument.takeLentTextWork()`).
    func enqueue(_ batch: [TextWork]) {
        guard !batch.isEmpty else { return }
        shared.append(batch)
    }

    /// Waits for every queued change, stops the thread and returns the texts with the first
    /// refused change, if any (after which nothing more was integrated).
    func finish() -> (texts: FieldStore<TextSequence>, failure: RefusedTextChange?) {
        shared.waitUntilIdle()
        shared.close()
        var texts = FieldStore<TextSequence>()
        swap(&texts, &shared.texts)
        return (texts, shared.failure)
    }

    /// What the two threads share; the worker thread holds only this, so dropping the
    /// integration (its `deinit`) can stop the thread.
    private final class Shared: @unchecked Sendable {
        /// Guards `queue`, `busy` and `closing`.
        private let condition = NSCondition()
        private var queue: [[TextWork]] = []
        private var busy = false
        private var closing = false
        /// The worker's while it is busy, the caller's once it is idle and closed.
        var texts: FieldStore<TextSequence>
        var failure: RefusedTextChange?

        init(texts: consuming FieldStore<TextSequence>) { self.texts = texts }

        func append(_ batch: [TextWork]) {
            condition.lock()
            while queue.count >= TextIntegrationThread.maximumQueuedBatches, !closing { condition.wait() }
            queue.append(batch)
            condition.broadcast()
            condition.unlock()
        }

        func waitUntilIdle() {
            condition.lock()
            while (!queue.isEmpty || busy), !closing { condition.wait() }
            condition.unlock()
        }

        func close() {
            condition.lock()
            closing = true
            condition.broadcast()
            condition.unlock()
        }

        /// The worker thread: integrates batches in order until closed. After a refusal it
        /// skips the rest, as an in-line merge would have stopped there.
        func run() {
            condition.lock()
            while true {
                while queue.isEmpty, !closing { condition.wait() }
                if closing { break }
                let batches = queue
                queue.removeAll(keepingCapacity: true)
                busy = true
                condition.broadcast()  // room for the caller to hand over more
                condition.unlock()
                integrate: for batch in batches where failure == nil {
                    for work in batch {
                        do throws(RefusedTextChange) { try texts.integrate(work) } catch {
                            failure = error
                            break integrate
                        }
                    }
                }
                condition.lock()
                busy = false
                condition.broadcast()
            }
            condition.unlock()
        }
    }
}
