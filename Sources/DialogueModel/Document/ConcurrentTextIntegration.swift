import Foundation

/// Integrates a document's text changes on a thread of its own while the caller applies
/// everything else: in a large merge, text integration is about a third of the work and
/// touches nothing but the document's text sequences.
///
/// Text changes are queued in application order and integrated in that order, so the
/// texts come out exactly as if applied in line. What changes is when a refused text
/// change is found: not when it is applied but at ``SpaceDocument/endConcurrentTextIntegration()``.
/// Meanwhile the document has recorded it as applied, so a document whose integration
/// ends with an error must be discarded; a replica's merge does that anyway, since its
/// batch lands whole or not at all. (A change drained from the pending buffer is
/// integrated in line instead, once the queue is empty: see `SpaceDocument.applyReady`.)
final class ConcurrentTextIntegration: @unchecked Sendable {
    /// One queued text change.
    struct Work: Sendable {
        /// The change as received (what a refusal names).
        var change: Dot
        var ref: FieldRef
        /// The first dot not held yet (the change may have been trimmed).
        var dot: Dot
        var operation: Operation
    }

    /// Changes handed over at a time: one lock and wake-up per batch, not per change.
    private static let batchSize = 256
    /// How far the caller may run ahead before it waits, bounding the memory queued.
    private static let maximumQueuedBatches = 32

    private let shared: Shared

    /// What the thread holds while it runs; it is freed once the thread has exited (tests
    /// watch it through a weak reference).
    var threadState: AnyObject { shared }
    /// Work not handed over yet (the caller's thread only).
    private var outgoing: [Work] = []

    /// Starts the thread, which takes over `texts` (of a space whose texts use `order`) until ``finish()``.
    init(texts: consuming FieldStore<TextSequence>, order: InsertionOrder) {
        shared = Shared(texts: texts, order: order)
        outgoing.reserveCapacity(Self.batchSize)
        let shared = self.shared
        Thread.detachNewThread { shared.run() }
    }

    /// Stops the thread if the document was dropped without ending the integration
    /// (a merge that failed): queued work is abandoned.
    deinit { shared.close() }

    /// Queues a text change (`.insertText` or `.deleteText`).
    func enqueue(_ work: Work) {
        outgoing.append(work)
        if outgoing.count >= Self.batchSize { handOver() }
    }

    /// Runs `body` on the texts once every queued change is integrated.
    func whenIdle<Result>(_ body: (inout FieldStore<TextSequence>) throws(ChangeError) -> Result) throws(ChangeError) -> Result {
        handOver()
        shared.waitUntilIdle()
        // Idle and fed only by this thread: the worker touches nothing until the next hand-over.
        return try body(&shared.texts)
    }

    /// Waits for every queued change, stops the thread and returns the texts with the
    /// first refused change, if any.
    func finish() -> (texts: FieldStore<TextSequence>, failure: RefusedTextChange?) {
        handOver()
        shared.waitUntilIdle()
        shared.close()
        var texts = FieldStore<TextSequence>()
        swap(&texts, &shared.texts)
        return (texts, shared.failure)
    }

    private func handOver() {
        guard !outgoing.isEmpty else { return }
        shared.append(outgoing)
        outgoing.removeAll(keepingCapacity: true)
    }

    /// What the two threads share; the worker thread holds only this, so dropping the
    /// integration (its `deinit`) can stop the thread.
    private final class Shared: @unchecked Sendable {
        /// Guards `queue`, `busy` and `closing`.
        private let condition = NSCondition()
        private var queue: [[Work]] = []
        private var busy = false
        private var closing = false
        /// The worker's while it is busy, the caller's while it is idle (`waitUntilIdle`).
        var texts: FieldStore<TextSequence>
        var failure: RefusedTextChange?
        /// The space's text order, for a text field created here.
        let order: InsertionOrder

        init(texts: consuming FieldStore<TextSequence>, order: InsertionOrder) {
            self.texts = texts
            self.order = order
        }

        func append(_ batch: [Work]) {
            condition.lock()
            while queue.count >= ConcurrentTextIntegration.maximumQueuedBatches, !closing { condition.wait() }
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
                for batch in batches where failure == nil {
                    for work in batch {
                        do throws(SequenceError) {
                            try texts.apply(work.operation, to: work.ref, first: work.dot, order: order)
                        } catch {
                            failure = RefusedTextChange(change: work.change, error: .invalidReference(work.dot, error))
                            break
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

/// A text change refused during concurrent integration: the change as received, and why.
package struct RefusedTextChange: Error, Equatable, Sendable {
    package var change: Dot
    package var error: ChangeError

    package init(change: Dot, error: ChangeError) {
        self.change = change
        self.error = error
    }
}

extension FieldStore where Value == TextSequence {
    /// Applies a causally ready text change (`.insertText` or `.deleteText`), already
    /// trimmed to what is not held, to the field `ref` (created with `order` if new).
    mutating func apply(_ operation: Operation, to ref: FieldRef, first dot: Dot, order: InsertionOrder) throws(SequenceError) {
        switch operation {
        case .insertText(let originLeft, let originRight, let text):
            let insertion = SequenceInsertion(
                first: dot, originLeft: originLeft, originRight: originRight, elements: Array(text.unicodeScalars))
            // The vector covers what is held, and the change was trimmed to what is not.
            if let slot = slot(of: ref) {
                try self[slot: slot].integrate(insertion, mayBeHeld: false)
            } else if let origin = originLeft ?? originRight {
                throw .unknownElement(origin)  // origins in a field that does not exist yet
            } else {
                try self[slot: slot(of: ref, creating: TextSequence(order: order))].integrate(insertion, mayBeHeld: false)
            }
        case .deleteText(let ranges):
            guard let slot = slot(of: ref) else { throw .unknownElement(Dot(ranges[0].replica, ranges[0].firstCounter)) }
            for range in ranges where !self[slot: slot].holds(replica: range.replica, counters: range.counters) {
                throw .unknownElement(Dot(range.replica, range.firstCounter))
            }
            for range in ranges { try self[slot: slot].delete(range) }
        default:
            preconditionFailure("not a text operation: \(operation)")
        }
    }
}
