extension SpaceDocument {
    /// Applies a change from anywhere (idempotent, order-independent).
    ///
    /// - Returns: whether it was applied, already held, or buffered until its causal
    ///   past arrives (buffered changes are applied by a later call that completes it).
    /// - Throws: ``ChangeError`` for a change that can never be applied; nothing changes.
    @discardableResult
    public mutating func apply(_ change: Change) throws(ChangeError) -> ApplyOutcome {
        try validateShape(change)
        let held = vector[change.replica]  // looked up once and handed on
        if change.lastCounter <= held {
            countingVerbatimJournalHead = false
            return .alreadyHeld
        }
        guard change.id.counter <= held + 1, change.dependencies.allSatisfy({ vector.contains($0) }) else {
            countingVerbatimJournalHead = false
            buffer(change)
            return .buffered
        }
        if checksHistory { try checkHistory(change) }
        try checkValue(change)
        try applyReady(change, held: held, asGiven: true)
        remoteGeneration += 1
        drainPending()
        return .applied
    }

    /// Applies many changes; stops at the first refused one (earlier ones stay applied).
    public mutating func apply(_ changes: some Sequence<Change>) throws(ChangeError) {
        for change in changes { try apply(change) }
    }

    /// Applies changes accepted once already (a stored log replayed when a replica opens,
    /// a server's view rebuilt from its store), like ``apply(_:)-(Change)`` but without checking
    /// their causal metadata or their fields' values again: a log stored before those checks
    /// existed stays readable (values its fields' rules refuse read as invalid).
    /// (Their causal pasts are recorded all the same, to check what arrives later.)
    public mutating func replay(_ changes: some Sequence<Change>) throws(ChangeError) {
        checksHistory = false
        checksFieldValues = false
        defer {
            checksHistory = true
            checksFieldValues = true
        }
        for change in changes { try apply(change) }
    }

    // MARK: Causality

    private func isReady(_ change: Change) -> Bool {
        change.id.counter <= vector[change.replica] + 1 && change.dependencies.allSatisfy { vector.contains($0) }
    }

    private mutating func buffer(_ change: Change) {
        var queue = pending[change.replica] ?? []
        guard !queue.contains(where: { $0.id == change.id }) else { return }
        let index = queue.firstIndex { $0.id.counter > change.id.counter } ?? queue.endIndex
        queue.insert(change, at: index)
        pending[change.replica] = queue
    }

    mutating func drainPending() {
        guard !pending.isEmpty else { return }
        var progress = true
        while progress {
            progress = false
            for replica in pending.keys.sorted() {
                while var queue = pending[replica], let next = queue.first {
                    if next.lastCounter <= vector[replica] {
                        queue.removeFirst()
                    } else if isReady(next) {
                        if textLoan != nil, next.operation.fieldType == .text {
                            // Its refusal must leave it unrecorded: it waits for the texts to come back.
                            textLoan!.waitsForTexts = true
                            return
                        }
                        queue.removeFirst()
                        do {
                            if checksHistory { try checkHistory(next) }
                            try checkValue(next)
                            try applyReady(next)
                        } catch { quarantined.append((next, error)) }
                        remoteGeneration += 1
                        progress = true
                    } else {
                        break
                    }
                    pending[replica] = queue.isEmpty ? nil : queue
                }
            }
        }
    }

    // MARK: Validation

    private func validateShape(_ change: Change) throws(ChangeError) {
        guard change.space == space else { throw .wrongSpace(expected: space, found: change.space) }
        if let problem = change.shapeProblem { throw .malformed(change.id, reason: problem) }
    }

    /// Refuses a causally ready change that names, as predecessors, observed dots or in its
    /// observed vector, a dot outside its causal past: something its author could not have
    /// seen (a write, tag or edit made concurrently, or never). Honest changes name only what
    /// their author held, which their dependencies and their author's previous change cover.
    private mutating func checkHistory(_ change: Change) throws(ChangeError) {
        let named: [Dot]
        switch change.operation {
        case .create(_, let predecessors), .set(_, let predecessors), .moveItem(_, _, _, let predecessors): named = predecessors
        case .remove(_, let observed): named = observed
        case .delete(let observed): named = observed.lastDots
        case .add, .insertText, .deleteText, .insertItem, .removeItem, .erase: return  // references are checked as applied
        }
        guard !named.isEmpty else { return }
        if change.dependencies.isEmpty {
            for dot in named where !causalPasts.contains(dot, inPastOf: change) {
                throw .impossibleHistory(change.id, named: dot, seen: causalPasts.causalPast(of: change)[dot.replica])
            }
        } else {
            let past = causalPasts.causalPast(of: change)
            for dot in named where !past.contains(dot) {
                throw .impossibleHistory(change.id, named: dot, seen: past[dot.replica])
            }
        }
    }

    /// Refuses a change that breaks its field's descriptor. Checked when the change is
    /// causally ready: its entity's creation, in its causal past, is then held by every
    /// replica alike. (Local edits are not checked here: the replica's editor checks them first.)
    private mutating func checkValue(_ change: Change) throws(ChangeError) {
        guard checksFieldValues, !change.field.isEmpty, !change.isContentErased else { return }
        let kind: EntityKind?
        if let last = lastCheckedKind, last.entity == change.entity {
            kind = last.kind
        } else {
            kind = entityKind(of: change.entity)
            lastCheckedKind = (change.entity, kind)
        }
        if let kind, let problem = valueProblem(of: change, kind: kind) { throw .invalidValue(change.id, reason: problem) }
    }

    // MARK: Application

    /// Applies a causally ready change, skipping any prefix already held.
    mutating func applyReady(_ change: Change) throws(ChangeError) {
        try applyReady(change, held: vector[change.replica])
    }

    /// The same, given what the vector holds of the change's author. `asGiven`: the change
    /// was handed to `apply`, not drained from the buffer.
    mutating func applyReady(_ change: Change, held: UInt64, asGiven: Bool = false) throws(ChangeError) {
        var received = change
        var asGiven = asGiven
        if !erasureIndex.isEmpty, !received.isContentErased, erases(received) {
            // Content an erasure covers never lands, from a stale device or a concurrent
            // edit alike; the journal gets the stripped change, not the one handed over.
            received = received.erasingContent()
            asGiven = false
        }
        let original = received.id
        let whole = received.id.counter > held
        let change = whole ? received : received.dropping(countersThrough: held)
        let ref = FieldRef(change.entity, change.field)
        let dot = change.id
        do {
            switch change.operation {
            case .create(let kind, let predecessors):
                lastCheckedKind = nil
                let write = LWWRegister<String>.Write(value: kind, timestamp: change.timestamp, dot: dot)
                entityStore[change.entity, default: EntityLifecycle()].kind.apply(write, predecessors: predecessors)
                if predecessors.isEmpty { entityStore[change.entity, default: EntityLifecycle()].recordOriginalCreation(write) }
            case .delete(let observed):
                entityStore[change.entity, default: EntityLifecycle()].deletions.append(
                    .init(dot: dot, timestamp: change.timestamp, observed: observed))
            case .set(let value, let predecessors):
                registers[ref, default: LWWRegister()].apply(
                    .init(value: value, timestamp: change.timestamp, dot: dot), predecessors: predecessors)
            case .add(let value):
                sets[ref, default: ORSet()].add(value, dot: dot)
            case .remove(let value, let observed):
                sets[ref, default: ORSet()].remove(value, observed: observed)
            case .insertText, .deleteText:
                // An erased insertion keeps its characters' places (later edits may be
                // anchored on them) and applies them deleted.
                let erasedRun =
                    change.isContentErased
                    ? Operation.deleteText([DotRange(checked: dot.replica, firstCounter: dot.counter, length: change.counterSpan)]) : nil
                if textLoan != nil {
                    // Checked by the borrower, in this order (drained changes never get here: `drainPending`).
                    textLoan!.work.append(TextWork(change: original, ref: ref, dot: dot, operation: change.operation, order: textOrder))
                    if let erasedRun {
                        textLoan!.work.append(TextWork(change: original, ref: ref, dot: dot, operation: erasedRun, order: textOrder))
                    }
                } else {
                    try textStore.apply(change.operation, to: ref, first: dot, order: textOrder)
                    if let erasedRun { try textStore.apply(erasedRun, to: ref, first: dot, order: textOrder) }
                }
            case .insertItem(let originLeft, let originRight, let value):
                try lists[ref, default: MovableList()].integrateInsert(
                    value, slot: SequenceInsertion(first: dot, originLeft: originLeft, originRight: originRight, elements: [dot]),
                    timestamp: change.timestamp)
            case .moveItem(let element, let originLeft, let originRight, let predecessors):
                guard lists[ref] != nil else { throw SequenceError.unknownElement(element) }
                try lists[ref]!.integrateMove(
                    element: element,
                    slot: SequenceInsertion(first: dot, originLeft: originLeft, originRight: originRight, elements: [element]),
                    predecessors: predecessors, timestamp: change.timestamp)
            case .removeItem(let element):
                guard lists[ref] != nil else { throw SequenceError.unknownElement(element) }
                try lists[ref]!.integrateRemove(element: element)
            case .erase(let erasure):
                erasureIndex.record(erasure, dot: dot)
            }
        } catch let error as SequenceError {
            // A refused change leaves no trace, not even an empty field.
            if lists[ref]?.entries.isEmpty == true { lists[ref] = nil }
            throw .invalidReference(dot, error)
        } catch let error as ChangeError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
        recordApplied(change, asGiven: asGiven && whole)
    }

    /// Starts `journal` afresh. With `omittingVerbatimHead`, the changes handed to
    /// ``apply(_:)`` that apply whole and in order, up to the first that does not, are only
    /// counted in ``verbatimJournalHead``: a merge that stores a frame as received holds
    /// them already, and copying a million changes into a journal is a cost of its own.
    package mutating func startJournal(omittingVerbatimHead: Bool) {
        journal = []
        verbatimJournalHead = 0
        countingVerbatimJournalHead = omittingVerbatimHead
    }

    /// Marks a change's counters as held and notes the edit on its entity. `asGiven`: the
    /// change is, whole, the one handed to `apply`.
    mutating func recordApplied(_ change: Change, asGiven: Bool = false) {
        if countingVerbatimJournalHead, asGiven {
            verbatimJournalHead += 1
        } else {
            countingVerbatimJournalHead = false
            journal?.append(change)
        }
        if !change.dependencies.isEmpty { causalPasts.record(change) }
        let last = Dot(change.replica, change.lastCounter)
        vector.record(last)
        lastRecorded = last
        switch change.operation {
        case .create, .delete, .erase: break  // an erasure is no edit: it never keeps an entity alive
        default: recordEdit(of: change.entity, last)
        }
    }
}

extension Change {
    /// What makes the change malformed whatever the state it meets, if anything. Every
    /// replica refuses such a change, so a server must refuse it too, or it would hand out
    /// a change nobody can apply.
    public var shapeProblem: String? {
        guard id.counter >= 1 else { return "counters start at 1" }
        guard counterSpan >= 1 else { return "the operation is empty" }
        guard id.counter <= UInt64.max - counterSpan else { return "counter overflow" }
        if dependencies.contains(where: { $0.replica == replica }) { return "a change cannot name its own author as a dependency" }
        if let problem = erasureShapeProblem { return problem }
        switch operation {
        case .deleteText(let ranges) where ranges.contains(where: { $0.length == 0 }): return "empty deletion range"
        case .create(let kind, _) where kind.isEmpty: return "empty entity kind"
        case .erase(let erasure):
            if let problem = erasure.shapeProblem { return problem }
            guard field.isEmpty, entity == erasure.entity else {
                return "an erasure is written on the erased entity (or the nil entity) with no field name"
            }
            return nil
        default: return nil
        }
    }

    /// The part of this change after `counter` (which must lie inside it): what a
    /// receiver that already holds a prefix still needs.
    public func dropping(countersThrough counter: UInt64) -> Change {
        let skip = counter - id.counter + 1
        var copy = self
        copy.id.counter += skip
        switch operation {
        case .insertText(_, let originRight, let text):
            let scalars = text.unicodeScalars
            var rest = String.UnicodeScalarView()
            rest.append(contentsOf: scalars.dropFirst(Int(skip)))
            copy.operation = .insertText(
                originLeft: Dot(id.replica, id.counter + skip - 1), originRight: originRight, text: String(rest))
        case .deleteText(let ranges):
            var remaining = skip
            var kept: [DotRange] = []
            for range in ranges {
                if remaining >= range.length {
                    remaining -= range.length
                    continue
                }
                kept.append(range.droppingFirst(remaining))
                remaining = 0
            }
            copy.operation = .deleteText(kept)
        default:
            preconditionFailure("single-counter operations cannot be split")
        }
        return copy
    }
}
