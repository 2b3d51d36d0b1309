import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueModel
@testable import DialogueSync

/// What a hostile peer can hand a replica directly (a merge, a bundle) is refused with a
/// typed error like at the server (issue 11, items 1 and 4), and what an older version
/// stored before these checks existed still opens.
@Suite("Replica hostile input")
struct ReplicaHostileInputTests {
    static let receiverID = ReplicaID(rawValue: 0x5EC)!

    /// A replica holding the scenario's space with Hill's and Vale's changes.
    static func receiver(_ scenario: ForgeryScenario, in directory: TemporaryDirectory) async throws -> Replica {
        let path = directory.path("receiver.sqlite")
        try createReplicaFile(at: path, id: receiverID)
        let replica = try Replica(path: path, wallClock: ManualWallClock(scenario.clock + 60_000))
        try await replica.addSpace(scenario.space)
        try await replica.merge(scenario.fromHill + scenario.fromVale)
        return replica
    }

    static func isImpossibleHistory(_ error: any Error, of id: Dot) -> Bool {
        guard let error = error as? ReplicaError, error.code == .changeRejected, error.rejection == .impossibleHistory else { return false }
        return error.change == id && error.message.contains("impossible history")
    }

    @Test("a replica's merge refuses forged history with the batch; the honest change is accepted", arguments: ForgedOperation.allCases)
    func mergeRefusesForgeries(_ forgery: ForgedOperation) async throws {
        let directory = TemporaryDirectory()
        var scenario = try ForgeryScenario()
        let replica = try await Self.receiver(scenario, in: directory)
        let (honest, forged, named) = try scenario.mallorysChanges(forgery)
        let before = try await ReplicaSnapshot(replica)
        do {
            try await replica.merge([forged])
            Issue.record("\(forgery): accepted")
        } catch {
            #expect(Self.isImpossibleHistory(error, of: forged.id), "\(error)")
            #expect("\(error)".contains(named.description))
        }
        #expect(try await ReplicaSnapshot(replica) == before, "the refusal changed the replica")
        #expect(try await replica.merge([honest]).applied == 1)
    }

    @Test("importing a bundle that carries a forged change refuses it whole")
    func bundleRefusesForgery() async throws {
        let directory = TemporaryDirectory()
        var scenario = try ForgeryScenario()
        let replica = try await Self.receiver(scenario, in: directory)
        let (_, forged, _) = try scenario.mallorysChanges(.delete)
        let url = directory.url.appendingPathComponent("forged.dlgb")
        // Mallory's device is certified and signs the forgery: it passes verification, and
        // the merge behind it refuses its history.
        let trust = BundleTrust()
        try await trust.login(replica, shared: [scenario.space])
        var mallory = ChangeSigner()
        var writer = try BundleWriter(
            to: url,
            header: .init(
                createdBy: ForgeryScenario.mallory, createdAt: scenario.clock, spaces: [.init(space: scenario.space)],
                certificates: [trust.certificate(ForgeryScenario.mallory, key: mallory.key.publicKey)]))
        try writer.write(scenario.fromHill + scenario.fromVale + [forged], heads: try mallory.sign([forged]))
        try writer.finish()
        let before = try await ReplicaSnapshot(replica)
        do {
            try await replica.importBundle(from: url)
            Issue.record("a bundle with a forged delete was imported")
        } catch {
            #expect(Self.isImpossibleHistory(error, of: forged.id), "\(error)")
        }
        #expect(try await ReplicaSnapshot(replica) == before)
    }

    @Test("two changes with one id and different content in one merge batch refuse it; identical copies are harmless")
    func duplicatesInOneBatch() async throws {
        let directory = TemporaryDirectory()
        var scenario = try ForgeryScenario()
        let replica = try await Self.receiver(scenario, in: directory)
        var mallory = scenario.mallory
        let first = mallory.set("focus", of: scenario.session, to: .string("marking"), by: scenario.context(ForgeryScenario.mallory))
        var twin = first
        twin.operation = .set(.string("something else"), predecessors: [])
        let before = try await ReplicaSnapshot(replica)
        do {
            try await replica.merge([first, twin])
            Issue.record("a batch with two contents for one dot was merged")
        } catch {
            guard let error = error as? ReplicaError, error.change == twin.id, error.rejection == .conflictingDuplicate else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.message.contains("different content"))
        }
        #expect(try await ReplicaSnapshot(replica) == before)
        let report = try await replica.merge([first, first])
        #expect(report.applied == 1)
        #expect(report.alreadyHeld == 1)
    }

    @Test("a replica whose log holds a forged change (stored by an older version) still opens, and keeps checking")
    func storedForgeryStillOpens() async throws {
        let directory = TemporaryDirectory()
        var scenario = try ForgeryScenario()
        let path = directory.path("old.sqlite")
        let (_, forged, _) = try scenario.mallorysChanges(.delete)
        try createReplicaFile(at: path, id: Self.receiverID)
        let queue = try DatabaseQueue(path: path)
        let (space, wall, log) = (scenario.space, scenario.clock, scenario.fromHill + scenario.fromVale + [forged])
        try await queue.write { db in
            try Replica.insertSpace(space, db, clock: HybridLogicalClock(wall: AnyWallClock(ManualWallClock(wall))))
            try Replica.appendBlocks(log, space: space, db)
            try Replica.storeVector(of: log, space: space, db)
        }
        try queue.close()
        let replica = try Replica(path: path, wallClock: ManualWallClock(scenario.clock + 60_000))
        let held = try await replica.changes(in: scenario.space, missingFrom: VersionVector(), limit: 1_000).changes
        #expect(held.contains { $0.id == forged.id })
        // A new forgery is refused all the same.
        let (honestSet, forgedSet, _) = try scenario.mallorysChanges(.set)  // Mallory's next counter
        do {
            try await replica.merge([forgedSet])
            Issue.record("a forgery was merged after the replay")
        } catch {
            #expect(Self.isImpossibleHistory(error, of: forgedSet.id), "\(error)")
        }
        #expect(try await replica.merge([honestSet]).applied == 1)
    }

    @Test("out-of-range counters reach a replica only as refusals: a merge, and a bundle whose frame holds a range past UInt64.max")
    func outOfRangeCounters() async throws {
        let directory = TemporaryDirectory()
        let scenario = try ForgeryScenario()
        let replica = try await Self.receiver(scenario, in: directory)
        try await BundleTrust().login(replica, shared: [scenario.space])
        let before = try await ReplicaSnapshot(replica)
        // A span past the largest counter, merged directly: a typed refusal of the batch.
        let overflowing = Change(
            id: Dot(ForgeryScenario.mallory, UInt64.max), timestamp: HLCTimestamp(wallTime: scenario.clock), space: scenario.space,
            entity: scenario.session, field: "summary", operation: .insertText(originLeft: nil, originRight: nil, text: "ab"))
        do {
            try await replica.merge([overflowing])
            Issue.record("a change past the largest counter was merged")
        } catch {
            guard let error = error as? ReplicaError, error.change == overflowing.id, error.rejection == .malformed else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.message.contains("counter overflow"))
        }
        // The attack's deletion range, written into a bundle by a hostile encoder (bypassing
        // the validating initialiser): the frame cannot be read, nothing is imported.
        let hostile = Change(
            id: Dot(ForgeryScenario.mallory, 1), timestamp: HLCTimestamp(wallTime: scenario.clock), space: scenario.space,
            entity: scenario.session, field: "summary",
            operation: .deleteText([DotRange(checked: ForgeryScenario.hill, firstCounter: UInt64.max, length: 1)]))
        let url = directory.url.appendingPathComponent("overflow.dlgb")
        var writer = try BundleWriter(
            to: url, header: .init(createdBy: ForgeryScenario.mallory, createdAt: scenario.clock, spaces: [.init(space: scenario.space)]))
        try writer.write([hostile], heads: [])
        try writer.finish()
        do {
            try await replica.importBundle(from: url)
            Issue.record("a bundle with an overflowing range was imported")
        } catch {
            guard let error = error as? ReplicaError, error.code == .invalidBundle else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.message.contains("runs past the largest counter"), "\(error)")
        }
        #expect(try await ReplicaSnapshot(replica) == before)
    }
}
