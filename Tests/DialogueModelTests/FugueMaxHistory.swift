import DialogueModel
import DialogueTestSupport
import Foundation

/// A history of text edits by several replicas with partial syncs, replayed twice: through
/// Dialogue (each replica a ``SpaceDocument``, edited with `editText` and fed the others'
/// changes with `apply`, as a replica is) and through ``FugueMaxReference``. Replaying
/// stops at the first replica whose text differs from the reference's.
struct FugueMaxHistory: Codable, Equatable {
    /// One step. Positions count visible characters; a negative one counts from the end
    /// (-1: after the last), and any position is clamped to the text, so a history stays
    /// valid when steps are removed from it (shrinking).
    enum Action: Codable, Equatable {
        case insert(replica: Int, at: Int, text: String)
        case delete(replica: Int, at: Int, length: Int)
        /// `to` receives, in `from`'s order, what it lacks of the first `fraction` of
        /// `from`'s log (a prefix of a causal order is causally closed).
        case sync(from: Int, to: Int, fraction: Double)
    }

    /// Replica ids, in replica order (small and shuffled, so ties go both ways).
    var replicas: [UInt64]
    var actions: [Action]

    /// A space whose texts are FugueMax (its id carries the marker), and one created
    /// before FugueMax (a version-4 id: YATA).
    static let fugueMaxSpace = SpaceID(UUID(uuidString: "5ace0000-0000-8f01-8000-00000000f0f0")!)
    static let yataSpace = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000f0f0")!)
    static let session = EntityID(UUID(uuidString: "5e550000-0000-4000-8000-00000000f0f0")!)
    static let field = DialogueSession.Field.summary

    // MARK: Random histories

    /// A random history: 2–8 replicas, many inserts at few places (the start, the end,
    /// the first few characters), runs typed at once and one character at a time, deletes,
    /// and partial syncs.
    static func random(seed: UInt64) -> FugueMaxHistory {
        var random = SplitMix64(seed: seed)
        let count = Int.random(in: 2...8, using: &random)
        var ids = Array(UInt64(1)...UInt64(3 * count)).shuffled(using: &random)
        ids.removeSubrange(count...)
        var actions: [Action] = []
        let hot = [0, 1, 2, 3, -1, -2]
        func place() -> Int {
            Int.random(in: 0..<4, using: &random) == 0 ? Int.random(in: 0...12, using: &random) : hot.randomElement(using: &random)!
        }
        if Bool.random(using: &random) {  // a shared start: some text everyone holds
            actions.append(.insert(replica: 0, at: 0, text: "0123"))
            for to in 1..<count { actions.append(.sync(from: 0, to: to, fraction: 1)) }
        }
        for _ in 0..<Int.random(in: 6...30, using: &random) {
            let replica = Int.random(in: 0..<count, using: &random)
            let letters = (0..<3).map { Character(Unicode.Scalar(UInt8(65 + 3 * replica + $0))) }
            switch Int.random(in: 0..<20, using: &random) {
            case 0..<8:
                let text = String((0..<Int.random(in: 1...4, using: &random)).map { _ in letters.randomElement(using: &random)! })
                actions.append(.insert(replica: replica, at: place(), text: text))
            case 8..<10:  // typed one character at a time, forward or at one place
                let start = place()
                let forward = Bool.random(using: &random)
                for step in 0..<Int.random(in: 2...4, using: &random) {
                    let at = forward ? (start >= 0 ? start + step : start) : start
                    actions.append(.insert(replica: replica, at: at, text: String(letters.randomElement(using: &random)!)))
                }
            case 10..<14:
                actions.append(.delete(replica: replica, at: place(), length: Int.random(in: 1...3, using: &random)))
            default:
                let from = Int.random(in: 0..<count, using: &random)
                let to = (from + Int.random(in: 1..<count, using: &random)) % count
                let fraction = Bool.random(using: &random) ? 1 : Double(Int.random(in: 0...4, using: &random)) / 4
                actions.append(.sync(from: from, to: to, fraction: fraction))
            }
        }
        return FugueMaxHistory(replicas: ids, actions: actions)
    }

    // MARK: Replay

    /// One change as it travels, with the reference's form of it.
    struct Entry {
        var change: Change
        var reference: ReferenceOperation
    }

    enum ReferenceOperation {
        case insert([FugueMaxReference.Insertion])
        case delete([Dot])
    }

    struct Replica {
        var id: ReplicaID
        var document: SpaceDocument
        var reference = FugueMaxReference()
        var log: [Entry] = []
        var held: Set<Dot> = []

        init(id: ReplicaID, space: SpaceID) {
            self.id = id
            document = SpaceDocument(space: space)
        }

        var text: String { document.textSequence(FugueMaxHistory.field, of: FugueMaxHistory.session)?.text ?? "" }
        var referenceText: String { String(String.UnicodeScalarView(reference.text)) }

        mutating func receive(_ entry: Entry) throws {
            guard held.insert(entry.change.id).inserted else { return }
            _ = try document.apply(entry.change)
            switch entry.reference {
            case .insert(let insertions): for insertion in insertions { reference.apply(insertion) }
            case .delete(let ids): for id in ids { reference.delete(id) }
            }
            log.append(entry)
        }

        mutating func record(_ change: Change, _ reference: ReferenceOperation) {
            held.insert(change.id)
            log.append(Entry(change: change, reference: reference))
        }
    }

    /// Where Dialogue and the reference first disagree.
    struct Divergence: Error, CustomStringConvertible {
        var step: Int
        var replica: Int
        var dialogue: String
        var reference: String
        var trace: [String]

        var description: String {
            "after step \(step), replica \(replica) reads \"\(dialogue)\" but FugueMax gives \"\(reference)\"\n"
                + trace.joined(separator: "\n")
        }
    }

    /// Replays the history, then syncs every replica fully and checks once more; also
    /// integrates every change into a fresh document on the concurrent text path. Returns
    /// the first divergence, or `nil` when Dialogue matched FugueMax throughout.
    func firstDivergence(in space: SpaceID = fugueMaxSpace) throws -> Divergence? {
        var replicas = self.replicas.map { Replica(id: ReplicaID(rawValue: $0)!, space: space) }
        var trace: [String] = ["replicas " + self.replicas.map { String($0) }.joined(separator: ", ")]
        var clock: UInt64 = 1
        func context(_ replica: Int) -> EditContext {
            clock += 1
            return EditContext(replica: replicas[replica].id, timestamp: HLCTimestamp(wallTime: clock))
        }
        let created = replicas[0].document.create(Self.session, kind: EntityKind.session.rawValue, by: context(0))
        replicas[0].record(created, .insert([]))
        for index in replicas.indices.dropFirst() { try replicas[index].receive(replicas[0].log[0]) }

        func check(_ step: Int, _ index: Int) -> Divergence? {
            let replica = replicas[index]
            guard replica.text != replica.referenceText else { return nil }
            return Divergence(step: step, replica: index, dialogue: replica.text, reference: replica.referenceText, trace: trace)
        }
        func resolve(_ position: Int, _ count: Int) -> Int { position >= 0 ? min(position, count) : max(0, count + 1 + position) }

        for (step, action) in actions.enumerated() {
            // A local edit puts its text where it is asked in both; only integrating
            // others' changes can order them differently, so the text is compared after syncs.
            var touched: Int?
            switch action {
            case .insert(let index, let at, let text):
                let count = replicas[index].reference.visible.count
                let position = resolve(at, count)
                let changes = try replicas[index].document.editText(
                    Self.field, of: Self.session, at: position, insert: text, by: context(index))
                let first = changes[0].id
                var insertions: [FugueMaxReference.Insertion] = []
                for (offset, scalar) in text.unicodeScalars.enumerated() {
                    let id = Dot(replicas[index].id, first.counter + UInt64(offset))
                    insertions.append(replicas[index].reference.insert(scalar, at: position + offset, id: id))
                }
                replicas[index].record(changes[0], .insert(insertions))
                trace.append("\(step): r\(index) inserts \"\(text)\" at \(position) as \(first) \(changes[0].operation)")
            case .delete(let index, let at, let length):
                let count = replicas[index].reference.visible.count
                let position = resolve(at, count)
                let length = min(length, count - position)
                guard length > 0 else { continue }
                let changes = try replicas[index].document.editText(
                    Self.field, of: Self.session, at: position, delete: length, by: context(index))
                let ids = Array(replicas[index].reference.visible[position..<position + length])
                for id in ids { replicas[index].reference.delete(id) }
                replicas[index].record(changes[0], .delete(ids))
                trace.append("\(step): r\(index) deletes \(length) at \(position): \(ids)")
            case .sync(let from, let to, let fraction):
                let log = replicas[from].log
                let prefix = log.prefix(Int((Double(log.count) * fraction).rounded(.up)))
                var received: [Dot] = []
                for entry in prefix where !replicas[to].held.contains(entry.change.id) {
                    try replicas[to].receive(entry)
                    received.append(entry.change.id)
                }
                trace.append("\(step): r\(to) receives from r\(from): \(received)")
                touched = to
            }
            if let touched, let divergence = check(step, touched) { return divergence }
        }
        // Everyone hears everything.
        for to in replicas.indices {
            for from in replicas.indices where from != to {
                for entry in replicas[from].log where !replicas[to].held.contains(entry.change.id) { try replicas[to].receive(entry) }
            }
        }
        trace.append("full sync")
        for index in replicas.indices { if let divergence = check(actions.count, index) { return divergence } }
        // The lent-texts path: a large merge lends the texts to a thread of its own
        // (DialogueSync's TextThreads); here the borrower integrates in line.
        var threaded = SpaceDocument(space: space)
        var lent = threaded.lendTexts()
        func giveBack() throws {
            for work in threaded.takeLentTextWork() { try lent.integrate(work) }
            threaded.returnTexts(lent)
        }
        for entry in replicas[0].log {
            _ = try threaded.apply(entry.change)
            if threaded.waitsForLentTexts {
                try giveBack()
                lent = threaded.lendTexts()
            }
        }
        try giveBack()
        let threadedText = threaded.textSequence(Self.field, of: Self.session)?.text ?? ""
        if threadedText != replicas[0].referenceText {
            trace.append("lent-texts integration of replica 0's log")
            return Divergence(
                step: actions.count, replica: 0, dialogue: threadedText, reference: replicas[0].referenceText, trace: trace)
        }
        return nil
    }

    // MARK: Shrinking

    /// A smallest history found (greedily: steps removed one at a time, texts shortened to
    /// one character, replicas dropped) that still diverges.
    func shrunk(in space: SpaceID = fugueMaxSpace) throws -> FugueMaxHistory {
        var best = self
        var progress = true
        while progress {
            progress = false
            var index = best.actions.count - 1
            while index >= 0 {
                var candidate = best
                candidate.actions.remove(at: index)
                if try candidate.firstDivergence(in: space) != nil {
                    best = candidate
                    progress = true
                } else if case .insert(let replica, let at, let text) = best.actions[index], text.count > 1 {
                    candidate = best
                    candidate.actions[index] = .insert(replica: replica, at: at, text: String(text.prefix(1)))
                    if try candidate.firstDivergence(in: space) != nil {
                        best = candidate
                        progress = true
                    }
                }
                index = min(index, best.actions.count) - 1
            }
        }
        return try best.withoutIdleReplicas(in: space)
    }

    /// The same history without the replicas no step names (replica 0 stays: it creates
    /// the session), when it still diverges without them.
    func withoutIdleReplicas(in space: SpaceID) throws -> FugueMaxHistory {
        var used: Set<Int> = [0]
        for action in actions {
            switch action {
            case .insert(let replica, _, _), .delete(let replica, _, _): used.insert(replica)
            case .sync(let from, let to, _): used.formUnion([from, to])
            }
        }
        let kept = used.sorted()
        guard kept.count < replicas.count, kept.count >= 2 else { return self }
        let renumber = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        let candidate = FugueMaxHistory(
            replicas: kept.map { replicas[$0] },
            actions: actions.map { action in
                switch action {
                case .insert(let replica, let at, let text): .insert(replica: renumber[replica]!, at: at, text: text)
                case .delete(let replica, let at, let length): .delete(replica: renumber[replica]!, at: at, length: length)
                case .sync(let from, let to, let fraction): .sync(from: renumber[from]!, to: renumber[to]!, fraction: fraction)
                }
            })
        return try candidate.firstDivergence(in: space) != nil ? candidate : self
    }
}
