import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// Convergence: several replicas make random domain edits, exchange changes in random
/// order with duplicates, partial deliveries and re-joined runs; at the end every
/// replica's canonical export is byte-identical. A failure names its seed; rerun one
/// seed with `ConvergenceSimulation(seed:).run()`.
@Suite("Convergence")
struct ConvergenceTests {
    @Test("random edits and random partial syncs converge", arguments: 0..<300)
    func randomEditsConverge(seed: UInt64) throws {
        var simulation = ConvergenceSimulation(seed: seed)
        try simulation.run()
        let exports = simulation.documents.map { $0.canonicalExportText() }
        for (index, export) in exports.enumerated().dropFirst() where export != exports[0] {
            Issue.record(
                "seed \(seed): replica \(index) differs from replica 0\n--- replica 0\n\(exports[0])--- replica \(index)\n\(export)")
        }
        for document in simulation.documents {
            #expect(document.pendingCount == 0, "seed \(seed): changes left buffered")
            #expect(document.quarantined.isEmpty, "seed \(seed): changes quarantined: \(document.quarantined.map(\.error))")
        }
        // The pure state from all changes, applied in one shuffled pass, is the same again.
        var fresh = SpaceDocument(space: simulation.space)
        var random = SplitMix64(seed: seed ^ 0xF00D)
        try fresh.apply(simulation.allChanges.values.shuffled(using: &random))
        #expect(fresh.canonicalExportText() == exports[0], "seed \(seed): a fresh replica applying every change differs")
    }

    @Test("concurrent writes to one register keep the losing values")
    func concurrentRegisterWritesKeepLosers() throws {
        let space = SpaceID(UUID())
        let session = EntityID(UUID())
        let alice = ReplicaID(rawValue: 10)!
        let bob = ReplicaID(rawValue: 20)!
        var a = SpaceDocument(space: space)
        let created = a.create(session, kind: EntityKind.session.rawValue, by: EditContext(replica: alice, timestamp: .init(wallTime: 1)))
        var b = SpaceDocument(space: space)
        try b.apply(created)
        let fromAlice = a.set("title", of: session, to: .string("Feedback"), by: EditContext(replica: alice, timestamp: .init(wallTime: 5)))
        let fromBob = b.set(
            "title", of: session, to: .string("Classroom visits"), by: EditContext(replica: bob, timestamp: .init(wallTime: 7)))
        try a.apply(fromBob)
        try b.apply(fromAlice)
        #expect(a.canonicalExport() == b.canonicalExport())
        let register = try #require(a.register("title", of: session))
        #expect(register.value == .string("Classroom visits"))
        #expect(register.losers.map(\.value) == [.string("Feedback")])
        #expect(register.losers.first?.dot.replica == alice)
    }
}

/// A seeded simulation of replicas editing one space and syncing at random.
struct ConvergenceSimulation {
    let seed: UInt64
    var random: SplitMix64
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-000000000001")!)
    var replicas: [ReplicaID] = []
    var documents: [SpaceDocument] = []
    var clocks: [UInt64] = []
    /// Every change ever made, by its dot.
    var allChanges: [Dot: Change] = [:]
    var entityPool: [EntityID] = []
    /// Whether replicas sometimes reopen: a fresh document replays what it holds, so its
    /// authors' bookkeeping (which dependencies are covered) starts afresh.
    var reopens = false
    /// Whether replicas sometimes erase (an entity, a field's history or a replica's
    /// contributions); each replica then rebuilds from its stripped log, as a store does.
    var erasures = false

    init(seed: UInt64) {
        self.seed = seed
        random = SplitMix64(seed: seed)
        let count = Int.random(in: 3...5, using: &random)
        for index in 0..<count {
            defer { documents[index].startJournal(omittingVerbatimHead: false) }
            // Replica IDs in random order so that tie-breaks are exercised both ways.
            replicas.append(ReplicaID(rawValue: UInt64.random(in: 1...1000, using: &random) * 8 + UInt64(index))!)
            documents.append(SpaceDocument(space: space))
            clocks.append(1_000 + UInt64.random(in: 0...50, using: &random))  // skewed clocks
        }
        for _ in 0..<3 { entityPool.append(EntityID.random(using: &random)) }
    }

    mutating func run() throws {
        let steps = Int.random(in: 30...90, using: &random)
        for _ in 0..<steps {
            if reopens, Int.random(in: 0..<12, using: &random) == 0 {
                try reopen(Int.random(in: 0..<documents.count, using: &random))
            }
            if Int.random(in: 0..<10, using: &random) < 7 {
                try editRandomly(Int.random(in: 0..<documents.count, using: &random))
            } else {
                let from = Int.random(in: 0..<documents.count, using: &random)
                let to = (from + Int.random(in: 1..<documents.count, using: &random)) % documents.count
                try deliver(from: from, to: to, fraction: Double.random(in: 0.2...1, using: &random))
            }
        }
        // Full exchange until quiet: every replica hears from every other, in random order.
        for _ in 0..<2 {
            for to in documents.indices.shuffled(using: &random) {
                for from in documents.indices where from != to { try deliver(from: from, to: to, fraction: 1) }
            }
        }
    }

    /// Sends a random subset of what `from` holds (shuffled, some duplicated, sometimes
    /// re-joined into runs) to `to`.
    mutating func deliver(from: Int, to: Int, fraction: Double) throws {
        let held = documents[from].vector
        var batch = allChanges.values.filter { held.contains(Dot($0.replica, $0.lastCounter)) }
        batch.sort { ($0.replica, $0.id.counter) < ($1.replica, $1.id.counter) }
        if Bool.random(using: &random) { batch = ChangeCompactor.compact(batch) }
        batch = batch.filter { _ in fraction >= 1 || Double.random(in: 0..<1, using: &random) < fraction }
        batch += batch.filter { _ in Int.random(in: 0..<5, using: &random) == 0 }  // duplicates
        batch.shuffle(using: &random)
        let erasuresBefore = documents[to].erasures.count
        for change in batch { try documents[to].apply(change) }
        if documents[to].erasures.count > erasuresBefore {
            try rebuild(to)
        } else {
            documents[to].settleWaiting()  // as a replica does before storing what waits
        }
    }

    /// Rewrites a replica's log without what its erasures erase and rebuilds its document
    /// from it, as a replica or a server does after applying an erasure.
    mutating func rebuild(_ index: Int) throws {
        let log = documents[index].strippingErased(documents[index].journal ?? []).changes
        var fresh = try documents[index].rebuilt(from: log)
        fresh.startJournal(omittingVerbatimHead: false)
        fresh.journal = log
        documents[index] = fresh
    }

    /// Replaces a replica's document by one rebuilt from what it holds (in random order:
    /// buffering restores the causal order), its waiting changes re-applied after.
    mutating func reopen(_ index: Int) throws {
        let held = documents[index].vector
        let log = allChanges.values.filter { held.contains(Dot($0.replica, $0.lastCounter)) }
            .sorted { ($0.replica, $0.id.counter) < ($1.replica, $1.id.counter) }
        var fresh = SpaceDocument(space: space)
        fresh.startJournal(omittingVerbatimHead: false)
        try fresh.apply(log.shuffled(using: &random))  // checked, as when received
        try fresh.apply(documents[index].pendingChanges)
        documents[index] = fresh
        if !fresh.erasures.isEmpty { try rebuild(index) }
    }

    mutating func eraseRandomly(_ index: Int, entity: EntityID) throws {
        let target: Erasure.Target
        switch Int.random(in: 0..<4, using: &random) {
        case 0: target = .entity(entity)
        case 1: target = .field(entity, "summary")
        case 2: target = .field(entity, ["title", "participants", "agenda"].randomElement(using: &random)!)
        default: target = .contributions(member: UUID(), replicas: [replicas.randomElement(using: &random)!])
        }
        let change = documents[index].erase(Erasure(target: target), by: context(index))
        record([change])
        try rebuild(index)
    }

    mutating func context(_ replica: Int) -> EditContext {
        clocks[replica] += UInt64.random(in: 0...3, using: &random)
        return EditContext(replica: replicas[replica], timestamp: HLCTimestamp(wallTime: clocks[replica], logical: 0))
    }

    mutating func record(_ changes: [Change]) {
        for change in changes { allChanges[change.id] = change }
    }

    mutating func editRandomly(_ index: Int) throws {
        let entity = entityPool.randomElement(using: &random)!
        if erasures, Int.random(in: 0..<15, using: &random) == 0 {
            try eraseRandomly(index, entity: entity)
            return
        }
        var document = documents[index]
        defer { documents[index] = document }
        guard !document.isErased(entity) else { return }  // an editor refuses an erased entity
        guard document.kind(of: entity) != nil else {
            record([document.create(entity, kind: EntityKind.session.rawValue, by: context(index))])
            return
        }
        // Values their fields' rules accept (a replica refuses others): people are references.
        let people = (1...4).map { FieldValue.reference(EntityID("00000000-0000-4000-8000-00000000000\($0)")!) }
        switch Int.random(in: 0..<10, using: &random) {
        case 0, 1:
            let field = ["status", "title"].randomElement(using: &random)!
            let values = field == "status" ? ["planned", "held", "closed"] : ["Reading", "Feedback ✍️", "planned"]
            let value = FieldValue.string(values.randomElement(using: &random)!)
            record([document.set(field, of: entity, to: value, by: context(index))])
        case 2:
            if let change = document.add(people.randomElement(using: &random)!, toSet: "participants", of: entity, by: context(index)) {
                record([change])
            }
        case 3:
            if let change = document.remove(people.randomElement(using: &random)!, fromSet: "participants", of: entity, by: context(index))
            {
                record([change])
            }
        case 4, 5, 6:
            let length = document.textSequence("summary", of: entity)?.count ?? 0
            let offset = Int.random(in: 0...length, using: &random)
            let deleteCount =
                offset < length && Bool.random(using: &random) ? Int.random(in: 1...min(4, length - offset), using: &random) : 0
            let text = ["", "a", "bc", "dé", "🙂", "word ", "\n"].randomElement(using: &random)!
            record(try document.editText("summary", of: entity, at: offset, delete: deleteCount, insert: text, by: context(index)))
        case 7:
            let count = document.items("agenda", of: entity).count
            let prompt = FieldValue.reference(PromptLibrary.starter.randomElement(using: &random)!.id)
            record([
                try document.insertItem(
                    prompt, at: Int.random(in: 0...count, using: &random), inList: "agenda", of: entity, by: context(index))
            ])
        case 8:
            let count = document.items("agenda", of: entity).count
            guard count > 0 else { return }
            if Bool.random(using: &random) || count == 1 {
                if Int.random(in: 0..<3, using: &random) == 0 {
                    record([
                        try document.removeItem(
                            at: Int.random(in: 0..<count, using: &random), inList: "agenda", of: entity, by: context(index))
                    ])
                }
            } else {
                let from = Int.random(in: 0..<count, using: &random)
                let to = Int.random(in: 0..<count, using: &random)
                record([try document.moveItem(from: from, to: to, inList: "agenda", of: entity, by: context(index))])
            }
        default:
            if Int.random(in: 0..<3, using: &random) == 0 { record([document.delete(entity, by: context(index))]) }
        }
    }
}
