import DialogueModel
import DialogueTestSupport
import Foundation
import Testing

/// A change may name, as predecessors, observed dots or an observed vector, only what its
/// author could have seen (issue 11, item 4): forgeries are refused with
/// `ChangeError.impossibleHistory`, honest histories never are.
@Suite("Causal history")
struct CausalHistoryTests {
    @Test("forged delete, set, create, remove and moveItem are refused by a document's merge", arguments: ForgedOperation.allCases)
    func forgeriesRefused(_ forgery: ForgedOperation) throws {
        var scenario = try ForgeryScenario()
        let (honest, forged, named) = try scenario.mallorysChanges(forgery)
        var receiver = scenario.receiver
        let before = receiver.canonicalExport()
        do {
            try receiver.apply(forged)
            Issue.record("\(forgery): the forged change was accepted")
        } catch {
            guard case .impossibleHistory(let dot, let claimed, _) = error else {
                Issue.record("\(forgery): refused for another reason: \(error)")
                return
            }
            #expect(dot == forged.id)
            #expect(claimed == named)
            #expect(error.description.contains("impossible history"))
        }
        #expect(receiver.canonicalExport() == before, "\(forgery): the refusal changed the document")
        // The same change as Mallory's editor made it is accepted.
        #expect(try receiver.apply(honest) == .applied)
        if forgery == .delete || forgery == .deleteClaimingLargestCounter {
            // Vale's concurrent edit keeps the session, as the design says.
            #expect(receiver.lifecycle(of: scenario.session)?.isDeleted == false)
            #expect(receiver.lifecycle(of: scenario.session)?.overruledDeletions.count == 1)
        }
    }

    @Test("a forged change that waited for its causal past is quarantined when its turn comes")
    func forgeryDrainedFromTheBuffer() throws {
        var scenario = try ForgeryScenario()
        let (_, forged, _) = try scenario.mallorysChanges(.set)
        var receiver = SpaceDocument(space: scenario.space)
        try receiver.apply(scenario.fromVale)
        #expect(try receiver.apply(forged) == .buffered)  // Hill's changes have not arrived
        try receiver.apply(scenario.fromHill)
        #expect(receiver.quarantined.map(\.change.id) == [forged.id])
        if case .impossibleHistory = receiver.quarantined.first?.error {} else { Issue.record("\(receiver.quarantined)") }
    }

    @Test("replay (a stored log) takes a forged change accepted by an older version, and later checks still work")
    func replayTrustsTheLog() throws {
        var scenario = try ForgeryScenario()
        let (_, forged, _) = try scenario.mallorysChanges(.delete)
        var reopened = SpaceDocument(space: scenario.space)
        try reopened.replay(scenario.fromHill + scenario.fromVale + [forged])
        #expect(reopened.vector.contains(forged.id))
        // A later forgery is still refused after the replay.
        var scenario2 = try ForgeryScenario()
        let (_, forgedSet, _) = try scenario2.mallorysChanges(.set)
        var receiver = SpaceDocument(space: scenario2.space)
        try receiver.replay(scenario2.fromHill + scenario2.fromVale)
        #expect(throws: ChangeError.self) { try receiver.apply(forgedSet) }
    }

    @Test("honest edge cases pass: names covered by an earlier change's dependencies, a reopened author, a trimmed run")
    func honestEdgeCases() throws {
        var scenario = try ForgeryScenario()
        var mallory = scenario.mallory
        // Mallory hears from Vale, writes once (naming Vale as a dependency), then deletes:
        // the delete names no dependencies but observes Vale, covered by the earlier write.
        try mallory.apply(scenario.fromVale)
        let write = mallory.set("focus", of: scenario.session, to: .string("marking"), by: scenario.context(ForgeryScenario.mallory))
        #expect(!write.dependencies.isEmpty)
        let delete = mallory.delete(scenario.session, by: scenario.context(ForgeryScenario.mallory))
        #expect(delete.dependencies.isEmpty)
        var receiver = scenario.receiver
        try receiver.apply(write)
        try receiver.apply(delete)
        #expect(receiver.quarantined.isEmpty)
        // Mallory's replica reopens (a fresh document replaying its log) and edits again.
        var reopened = SpaceDocument(space: scenario.space)
        try reopened.replay(scenario.fromHill + scenario.fromVale + [write, delete])
        let recreate = reopened.create(scenario.session, kind: EntityKind.session.rawValue, by: scenario.context(ForgeryScenario.mallory))
        let retitle = reopened.set("title", of: scenario.session, to: .string("again"), by: scenario.context(ForgeryScenario.mallory))
        try receiver.apply(recreate)
        try receiver.apply(retitle)
        // A text run and its re-joined form, delivered in pieces and out of order.
        let typed = try reopened.editText(
            "summary", of: scenario.session, at: 0, insert: "xy", by: scenario.context(ForgeryScenario.mallory))
        let more = try reopened.editText("summary", of: scenario.session, at: 2, insert: "z", by: scenario.context(ForgeryScenario.mallory))
        let joined = ChangeCompactor.compact(typed + more)
        #expect(joined.count == 1)
        try receiver.apply(typed)
        try receiver.apply(joined)
        #expect(receiver.quarantined.isEmpty)
    }

    @Test("random honest histories, with reopened replicas, are never refused", arguments: 0..<120)
    func honestHistoriesNeverRefused(seed: UInt64) throws {
        var simulation = ConvergenceSimulation(seed: seed ^ 0xCA05A1)
        simulation.reopens = true
        do { try simulation.run() } catch { Issue.record("seed \(seed): an honest change was refused: \(error)") }
        for document in simulation.documents {
            #expect(document.quarantined.isEmpty, "seed \(seed): quarantined \(document.quarantined.map(\.error))")
        }
        let exports = simulation.documents.map { $0.canonicalExport() }
        #expect(exports.allSatisfy { $0 == exports[0] }, "seed \(seed): replicas differ")
    }
}
