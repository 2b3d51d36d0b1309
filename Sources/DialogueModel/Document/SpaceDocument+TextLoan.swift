/// Lending a document's texts out, so that a caller can integrate them elsewhere (on
/// another thread) while the document applies everything else: in a large merge, text
/// integration is about a third of the work and touches nothing but the text sequences.
///
/// The document stays a value and holds no thread or lock: while its texts are lent, each
/// text change it applies is recorded as applied and queued as ``TextWork``, in
/// application order, for the borrower to take (``takeLentTextWork()``) and integrate in
/// that order (``FieldStore/integrate(_:)``), so the texts come out exactly as if applied
/// in line. What the document cannot see is a text change refused there: a borrower that
/// meets one must discard the document (a replica's merge does: its batch lands whole or
/// not at all). A text change drained from the buffer is never queued (its refusal must
/// leave it unrecorded, `quarantined`): it waits, with what depends on it, until the texts
/// come back (``waitsForLentTexts``, ``returnTexts(_:)``).
extension SpaceDocument {
    /// The texts, taken out of the document until ``returnTexts(_:)``. Reading or editing
    /// the texts in between traps.
    package mutating func lendTexts() -> FieldStore<TextSequence> {
        precondition(textLoan == nil, "the texts are lent already")
        var handed = FieldStore<TextSequence>()
        swap(&handed, &textStore)
        textLoan = TextLoan()
        return handed
    }

    /// Whether the texts are lent out (between ``lendTexts()`` and ``returnTexts(_:)``).
    package var lendsTexts: Bool { textLoan != nil }

    /// How many text changes are queued for the borrower.
    package var lentTextWorkCount: Int { textLoan?.work.count ?? 0 }

    /// Whether a text change drained from the buffer waits for the texts to come back (the
    /// borrower should integrate what it holds and return them soon).
    package var waitsForLentTexts: Bool { textLoan?.waitsForTexts ?? false }

    /// The text changes queued since the last call, in application order.
    package mutating func takeLentTextWork() -> [TextWork] {
        guard textLoan != nil, !textLoan!.work.isEmpty else { return [] }
        var work: [TextWork] = []
        swap(&work, &textLoan!.work)
        return work
    }

    /// Takes the texts back, with every queued change integrated into them, and applies
    /// what waited for them.
    package mutating func returnTexts(_ texts: consuming FieldStore<TextSequence>) {
        precondition(textLoan?.work.isEmpty == true, "texts returned with queued text changes not taken")
        let waited = textLoan!.waitsForTexts
        textLoan = nil
        textStore = texts
        if waited { drainPending() }
    }
}

/// The state of a loan of a document's texts (see ``SpaceDocument/lendTexts()``).
package struct TextLoan: Sendable {
    /// Text changes applied since the last take, in order.
    var work: [TextWork] = []
    /// A drained text change waits for the texts.
    var waitsForTexts = false
}

/// One text change for the borrower of a document's texts to integrate.
package struct TextWork: Sendable {
    /// The change as received (what a refusal names).
    package var change: Dot
    package var ref: FieldRef
    /// The first dot not held yet (the change may have been trimmed).
    package var dot: Dot
    /// `.insertText` or `.deleteText`.
    package var operation: Operation
    /// The space's text order, for a text field the change creates (`SpaceDocument.textOrder`).
    package var order: InsertionOrder
}

/// A text change refused when the borrower integrated it: the change as received, and why.
package struct RefusedTextChange: Error, Equatable, Sendable {
    package var change: Dot
    package var error: ChangeError

    package init(change: Dot, error: ChangeError) {
        self.change = change
        self.error = error
    }
}

extension FieldStore where Value == TextSequence {
    /// Integrates one text change lent out by a document (``SpaceDocument/lendTexts()``).
    package mutating func integrate(_ work: TextWork) throws(RefusedTextChange) {
        do throws(SequenceError) {
            try apply(work.operation, to: work.ref, first: work.dot, order: work.order)
        } catch {
            throw RefusedTextChange(change: work.change, error: .invalidReference(work.dot, error))
        }
    }

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
