import DialogueModel
import Foundation

/// Replays editing traces through ``SpaceDocument``: the same code path an app's edits take.
public enum TraceReplay {
    /// The space, entity and field every trace is typed into. The space's texts are YATA
    /// (a version-4 id), or FugueMax when `DIALOGUE_TEXT_ORDER=fugueMax` (its id then
    /// carries the marker, see `InsertionOrder`), to measure either order.
    public static let space =
        ProcessInfo.processInfo.environment["DIALOGUE_TEXT_ORDER"] == "fugueMax"
        ? SpaceID(UUID(uuidString: "00000000-0000-8f01-8000-00000000d1a1")!)
        : SpaceID(UUID(uuidString: "00000000-0000-4000-8000-00000000d1a1")!)
    public static let entity = EntityID(UUID(uuidString: "00000000-0000-4000-8000-0000000e0001")!)
    public static let field = "text"
    static let startTime: UInt64 = 1_700_000_000_000

    /// The replica that plays `agent` (agents are numbered from 0).
    public static func replica(forAgent agent: Int) -> ReplicaID {
        ReplicaID(rawValue: UInt64(agent) + 1)!
    }

    /// What a replay produced.
    public struct Result {
        /// One document per agent, each after its last transaction.
        public var documents: [SpaceDocument]
        /// Every change, in a causal order, compacted into runs.
        public var changes: [Change]
    }

    public struct Mismatch: Error, CustomStringConvertible {
        public let description: String
    }

    /// Replays a trace. Sequential traces use one replica; concurrent traces one per
    /// agent, merging each transaction's missing ancestors before applying it.
    public static func replay(_ trace: EditingTrace) throws -> Result {
        trace.isConcurrent ? try replayConcurrent(trace) : try replaySequential(trace)
    }

    static func replaySequential(_ trace: EditingTrace) throws -> Result {
        var document = SpaceDocument(space: space)
        var compactor = ChangeCompactor()
        let replica = replica(forAgent: 0)
        var tick: UInt64 = 0
        if !trace.startContent.isEmpty {
            for change in try document.editText(
                field, of: entity, at: 0, insert: trace.startContent,
                by: EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: startTime)))
            {
                compactor.append(change)
            }
        }
        var buffer: [Change] = []
        for transaction in trace.transactions {
            tick += 1
            let context = EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: startTime + tick))
            for patch in trace.patches[transaction.patchRange] {
                try document.editText(
                    field, of: entity, at: patch.position, delete: patch.deleteCount, insert: patch.insert, by: context,
                    appendingTo: &buffer)
            }
            // As an editor would: the transaction's keystrokes go to the log together.
            for change in buffer { compactor.append(change) }
            buffer.removeAll(keepingCapacity: true)
        }
        return Result(documents: [document], changes: compactor.changes)
    }

    static func replayConcurrent(_ trace: EditingTrace) throws -> Result {
        let transactions = trace.transactions
        var documents = (0..<trace.agentCount).map { _ in SpaceDocument(space: space) }
        var produced = [[Change]](repeating: [], count: transactions.count)
        var known = [[Bool]](repeating: [Bool](repeating: false, count: transactions.count), count: trace.agentCount)
        for (index, transaction) in transactions.enumerated() {
            let agent = transaction.agent
            guard agent >= 0, agent < trace.agentCount else { throw Mismatch(description: "txn \(index): agent \(agent) out of range") }
            // Everything the transaction's parents have seen that this agent lacks.
            var missing: [Int] = []
            var stack = transaction.parents
            while let parent = stack.popLast() {
                guard parent >= 0, parent < index else { throw Mismatch(description: "txn \(index): bad parent \(parent)") }
                if known[agent][parent] { continue }
                known[agent][parent] = true
                missing.append(parent)
                stack.append(contentsOf: transactions[parent].parents)
            }
            for ancestor in missing.sorted() {
                for change in produced[ancestor] { try documents[agent].apply(change) }
            }
            let context = EditContext(replica: replica(forAgent: agent), timestamp: HLCTimestamp(wallTime: startTime + UInt64(index)))
            for patch in trace.patches[transaction.patchRange] {
                produced[index].append(
                    contentsOf: try documents[agent].editText(
                        field, of: entity, at: patch.position, delete: patch.deleteCount, insert: patch.insert, by: context))
            }
            known[agent][index] = true
        }
        let all = produced.flatMap { $0 }
        for agent in documents.indices { try documents[agent].apply(all) }
        return Result(documents: documents, changes: ChangeCompactor.compact(all))
    }

    /// Checks that every document reads `expected`.
    public static func verify(_ documents: [SpaceDocument], expected: String) throws {
        for (agent, document) in documents.enumerated() {
            let text = document.text(field, of: entity)
            guard text == expected else {
                let common = zip(text.unicodeScalars, expected.unicodeScalars).prefix { $0 == $1 }.count
                throw Mismatch(
                    description:
                        "replica \(agent) reads \(text.unicodeScalars.count) scalars, expected \(expected.unicodeScalars.count); first difference at scalar \(common)"
                )
            }
        }
    }
}
