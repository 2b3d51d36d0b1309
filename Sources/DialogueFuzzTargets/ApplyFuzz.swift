import DialogueModel
import Foundation

/// `SpaceDocument.apply` of hostile changes on a document holding the corpus history.
///
/// The bytes are read as a script of choices (``ChoiceStream``) that builds up to
/// sixteen changes shaped like real ones: authors and counters near what the document
/// holds, references to dots, text runs and list items that exist (or almost), values of
/// every type, and now and then an extreme (0, `UInt64.max`, a foreign space). So most
/// inputs reach the CRDTs rather than the shape checks. Oracle: no crash, and a refused
/// change leaves the document's canonical export unchanged.
enum ApplyFuzz {
    static func run(_ bytes: [UInt8]) throws(FuzzFinding) {
        var document = FuzzCorpus.document
        var pools = ReferencePools.corpus
        var choices = ChoiceStream(bytes)
        var made = 0
        while !choices.isAtEnd, made < 16 {
            made += 1
            let change = pools.makeChange(from: &choices, document: document)
            if try applyChecked(change, to: &document) { pools.learn(change) }
        }
    }

    /// Applies one change; whether it was accepted. The oracle: a refusal alters nothing.
    static func applyChecked(_ change: Change, to document: inout SpaceDocument) throws(FuzzFinding) -> Bool {
        let before = document  // a copy-on-write snapshot: rendered only if the change is refused
        do {
            try document.apply(change)
            return true
        } catch {
            guard document.canonicalExport() == before.canonicalExport() else {
                throw FuzzFinding("refused change \(change.id) (\(error)) altered the document")
            }
            return false
        }
    }

    /// Applies changes from elsewhere (a decoder) one by one to the corpus document, with the same oracle.
    static func apply(_ changes: [Change]) throws(FuzzFinding) {
        var document = FuzzCorpus.document
        for change in changes { _ = try applyChecked(change, to: &document) }
    }

    /// Scripts that rebuild corpus-like changes, one per operation kind and a few extremes.
    static func seeds() -> [(name: String, bytes: [UInt8])] {
        var seeds: [(name: String, bytes: [UInt8])] = []
        for kind in 0..<ReferencePools.operationKinds {
            seeds.append(("kind-\(kind).bin", [0, 0, 0, 0, 0, 0, UInt8(kind), 0, 1, 2, 3, 4, 5, 6, 7]))
        }
        seeds.append(("text-burst.bin", [0, 0, 0, 0, 0, 0, 5, 1, 2, 0, 0, 3, 0, 0, 1, 0, 0, 0, 0, 0, 6, 2, 1, 0, 0, 1]))
        seeds.append(("extremes.bin", [1, 5, 2, 3, 1, 0, 6, 4, 255, 255, 255, 255, 255, 255, 255, 255, 3, 9]))
        return seeds
    }
}

/// Reads choices from fuzz bytes; past the end every choice is 0 (the most ordinary one).
struct ChoiceStream {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A choice in `0..<count` (`count` > 0).
    mutating func pick(_ count: Int) -> Int { Int(byte()) % count }

    mutating func element<T>(_ values: [T]) -> T? { values.isEmpty ? nil : values[pick(values.count)] }

    mutating func uint64() -> UInt64 { (0..<8).reduce(UInt64(0)) { value, _ in value << 8 | UInt64(byte()) } }

    /// A short string: corpus-like words, or raw scalars (combining marks, emoji, controls).
    mutating func text() -> String {
        let words = ["a", "We met", " ", "é", "e\u{301}", "😊", "👩‍👩‍👧", "\n", "\u{0}", "\u{202E}", "Ω≈ç√"]
        var result = ""
        for _ in 0...pick(3) {
            if byte() & 1 == 0 {
                result += words[pick(words.count)]
            } else if let scalar = Unicode.Scalar(UInt32(byte()) << 8 | UInt32(byte())) {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// What a change may refer to: the dots, text runs, list items, entities and fields the
/// document holds, learned from the corpus and from every change applied since.
struct ReferencePools {
    static let operationKinds = 11
    var dots: [Dot] = []
    var textRuns: [(first: Dot, length: UInt64)] = []
    var items: [Dot] = []
    var entities: [EntityID] = []
    var fields: [FieldType: [String]] = [:]
    var replicas: [ReplicaID] = [FuzzCorpus.hill, FuzzCorpus.vale, ReplicaID(rawValue: 0xC3)!]

    /// What the corpus holds (built once: the corpus is the same every run).
    static let corpus = ReferencePools(FuzzCorpus.changes())

    init(_ changes: [Change]) {
        for change in changes { learn(change) }
    }

    mutating func learn(_ change: Change) {
        dots.append(change.id)
        if !entities.contains(change.entity) { entities.append(change.entity) }
        if !fields[change.operation.fieldType, default: []].contains(change.field) {
            fields[change.operation.fieldType, default: []].append(change.field)
        }
        switch change.operation {
        case .insertText(_, _, let text): textRuns.append((change.id, UInt64(text.unicodeScalars.count)))
        case .insertItem: items.append(change.id)
        default: break
        }
    }

    mutating func makeChange(from choices: inout ChoiceStream, document: SpaceDocument) -> Change {
        let replica = pickReplica(&choices)
        let counter = pickCounter(&choices, held: document.vector[replica])
        let timestamp = pickTimestamp(&choices)
        let space = choices.pick(16) == 15 ? SpaceID(UUID(uuidString: "5ba7ed00-0000-4000-8000-0000000000ff")!) : document.space
        let entity =
            switch choices.pick(8) {
            case 6: EntityID(UUID(uuid: (0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, choices.byte())))
            default: choices.element(entities) ?? FuzzCorpus.session
            }
        var dependencies: [Dot] = []
        for _ in 0..<choices.pick(3) { dependencies.append(pickDot(&choices)) }
        let operation = makeOperation(&choices)
        var field =
            switch choices.pick(8) {
            case 7: choices.text()
            default: choices.element(fields[operation.fieldType] ?? []) ?? "summary"
            }
        var placed = entity
        if case .erase(let erasure) = operation, choices.pick(4) != 0 {
            placed = erasure.entity  // mostly where an erasure belongs, so it reaches the document
            field = ""
        }
        var change = Change(
            id: Dot(replica, counter), timestamp: timestamp, space: space, entity: placed, field: field, dependencies: dependencies,
            operation: operation)
        switch choices.pick(10) {
        case 8: change = change.erasingContent()  // what a relay holding an erasure passes on
        case 9: change.markContentErased(hash: (0..<32).map { _ in choices.byte() })  // words under a kept hash
        default: break
        }
        return change
    }

    private func pickErasureTarget(_ choices: inout ChoiceStream) -> Erasure.Target {
        let entity = choices.element(entities) ?? FuzzCorpus.session
        switch choices.pick(4) {
        case 0: return .entity(entity)
        case 1: return .field(entity, choices.element(Array(fields.values.joined())) ?? "summary")
        case 2: return .field(entity, choices.pick(4) == 0 ? "" : choices.text())
        default:
            var erased = (0...choices.pick(3)).map { _ in pickReplica(&choices) }
            if choices.pick(4) != 0 { erased = Array(Set(erased)).sorted() }  // sometimes unsorted or repeated
            return .contributions(member: FuzzCorpus.member.uuid, replicas: choices.pick(8) == 0 ? [] : erased)
        }
    }

    private func pickReplica(_ choices: inout ChoiceStream) -> ReplicaID {
        let index = choices.pick(replicas.count + 1)
        if index < replicas.count { return replicas[index] }
        return ReplicaID(rawValue: choices.uint64()) ?? replicas[0]
    }

    /// Mostly the next counter; sometimes one held, a gap, or an extreme.
    private func pickCounter(_ choices: inout ChoiceStream, held: UInt64) -> UInt64 {
        switch choices.pick(12) {
        case 8: held
        case 9: held &+ 2 &+ UInt64(choices.byte())
        case 10:
            switch choices.pick(4) {
            case 0: 0
            case 1: .max
            case 2: .max - 1
            default: .max - UInt64(choices.byte())
            }
        case 11: choices.uint64()
        default: held &+ 1
        }
    }

    private func pickTimestamp(_ choices: inout ChoiceStream) -> HLCTimestamp {
        switch choices.pick(8) {
        case 6: HLCTimestamp(wallTime: 0, logical: 0)
        case 7: HLCTimestamp(wallTime: choices.uint64(), logical: UInt16(choices.byte()) << 8 | UInt16(choices.byte()))
        default: HLCTimestamp(wallTime: 1_765_000_100_000 + UInt64(choices.byte()) * 1_000, logical: UInt16(choices.byte() % 4))
        }
    }

    /// A dot the document holds, one just past a held run, or an arbitrary one.
    private func pickDot(_ choices: inout ChoiceStream) -> Dot {
        switch choices.pick(8) {
        case 6: return Dot(pickReplica(&choices), choices.uint64())
        case 7:
            guard let run = choices.element(textRuns) else { return dots[0] }
            return Dot(run.first.replica, run.first.counter &+ run.length)
        default: return choices.element(dots) ?? Dot(FuzzCorpus.hill, 1)
        }
    }

    /// A dot inside a text run (its first, its last, in between, or just past it).
    private func pickTextDot(_ choices: inout ChoiceStream) -> Dot? {
        guard choices.pick(6) != 5, let run = choices.element(textRuns) else { return choices.pick(2) == 0 ? nil : pickDot(&choices) }
        let offset = UInt64(choices.byte()) % (run.length + 1)
        return Dot(run.first.replica, run.first.counter &+ offset)
    }

    private func pickDots(_ choices: inout ChoiceStream) -> [Dot] {
        (0..<choices.pick(3)).map { _ in pickDot(&choices) }
    }

    private func pickValue(_ choices: inout ChoiceStream) -> FieldValue {
        switch choices.pick(7) {
        case 0: .null
        case 1: .bool(choices.byte() & 1 == 1)
        case 2: .int(Int64(bitPattern: choices.uint64()))
        case 3: .string(choices.text())
        case 4: .timestamp(Int64(bitPattern: choices.uint64()))
        case 5: .reference(choices.element(entities) ?? FuzzCorpus.member)
        default: .string(["planned", "held", "Oral feedback", ""][choices.pick(4)])
        }
    }

    private func pickVector(_ choices: inout ChoiceStream) -> VersionVector {
        var vector = VersionVector()
        for _ in 0..<choices.pick(4) {
            let dot = pickDot(&choices)
            if dot.counter > 0 { vector.record(dot) }
        }
        return vector
    }

    private func makeOperation(_ choices: inout ChoiceStream) -> DialogueModel.Operation {
        switch choices.pick(Self.operationKinds) {
        case 0:
            return .create(kind: ["session", "prompt", "insight", "", "future-kind"][choices.pick(5)], predecessors: pickDots(&choices))
        case 1: return .delete(observed: pickVector(&choices))
        case 2: return .set(pickValue(&choices), predecessors: pickDots(&choices))
        case 3: return .add(pickValue(&choices))
        case 4: return .remove(pickValue(&choices), observed: pickDots(&choices))
        case 5: return .insertText(originLeft: pickTextDot(&choices), originRight: pickTextDot(&choices), text: choices.text())
        case 6:
            var ranges: [DotRange] = []
            for _ in 0...choices.pick(3) {
                let start = pickTextDot(&choices) ?? pickDot(&choices)
                let length: UInt64 =
                    switch choices.pick(8) {
                    case 6: .max - UInt64(choices.byte())
                    case 7: choices.uint64()
                    default: UInt64(choices.byte() % 8)
                    }
                // A range past UInt64.max cannot be built (the decoders refuse it the same way).
                guard let range = try? DotRange(replica: start.replica, firstCounter: start.counter, length: length) else { continue }
                ranges.append(range)
            }
            return .deleteText(ranges)
        case 7:
            let left = choices.pick(3) == 0 ? nil : choices.element(items) ?? pickDot(&choices)
            let right = choices.pick(3) == 0 ? nil : choices.element(items) ?? pickDot(&choices)
            return .insertItem(originLeft: left, originRight: right, value: pickValue(&choices))
        case 8:
            let element = choices.element(items) ?? pickDot(&choices)
            let left = choices.pick(3) == 0 ? nil : choices.element(items)
            let right = choices.pick(3) == 0 ? nil : choices.element(items)
            return .moveItem(element: element, originLeft: left, originRight: right, predecessors: pickDots(&choices))
        case 9:
            return .removeItem(element: choices.pick(4) == 0 ? pickDot(&choices) : choices.element(items) ?? pickDot(&choices))
        default:
            var erasure = Erasure(target: .entity(FuzzCorpus.session))
            erasure.target = pickErasureTarget(&choices)  // as given: the document must refuse what is malformed
            return .erase(erasure)
        }
    }
}
