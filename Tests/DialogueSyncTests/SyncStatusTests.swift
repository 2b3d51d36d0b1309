import DialogueModel
import Foundation
import Testing

@testable import DialogueSync

/// Sync status and what arrived in a sync, as library calls.
@Suite("Sync status and arrivals (library)")
struct SyncStatusTests {
    @Test("changes not on the server and the last sync, before a sync, after it, and after one more edit")
    func statusBeforeAndAfterASync() async throws {
        let directory = TemporaryDirectory()
        var network = SignedNetwork()
        let clock = ManualWallClock(1_741_000_000_000)
        let leader = try Replica(path: directory.path("leader.sqlite"), wallClock: clock)
        let hub = try Replica(path: directory.path("hub.sqlite"))  // stands in for the server's copy
        try await network.login(leader)
        try await network.login(hub)
        let space = SpaceID(UUID())
        for replica in [leader, hub] { try await replica.addSpace(space) }
        let server = "https://dialogue.example.org"
        // A session with a title and a status: three changes (its creation and two registers).
        let session = try await leader.edit(in: space) { editor in try editor.createSession(title: "Visit") }

        let before = try await leader.syncStatus(server: server, serverHas: [:])
        #expect(before.map(\.space.id) == [space])
        #expect(before.map(\.unsyncedChanges) == [3])
        #expect(before.map(\.lastSync) == [nil])
        #expect(before.map(\.unverifiableChanges) == [0] && before.map(\.waitingChanges) == [0])

        // The sync: the hub receives everything; the leader notes the sync at 10:00.
        clock.advance(by: 3_600_000)
        #expect(try await signedSync(space, from: leader, to: hub, evidence: network.evidence) == 3)
        try await leader.recordSync(of: space, with: server)
        let serverHas = try hub.heldVectors()
        let after = try await leader.syncStatus(server: server, serverHas: serverHas)
        #expect(after.map(\.unsyncedChanges) == [0])
        #expect(after.map(\.lastSync) == [1_741_003_600_000])
        // Another server's status: never synced with it.
        #expect(try await leader.syncStatus(server: "https://other.example.org", serverHas: serverHas).map(\.lastSync) == [nil])
        #expect(try await leader.syncStatus(server: nil, serverHas: serverHas).map(\.lastSync) == [1_741_003_600_000])

        try await leader.edit(in: space) { editor in try editor.set(DialogueSession.Key.focus, of: session, to: "Feedback") }
        #expect(try await leader.syncStatus(server: server, serverHas: serverHas).map(\.unsyncedChanges) == [1])
    }

    @Test("what arrived: the live sessions, insights and actions other devices created, per author; nothing of this device's")
    func arrivals() async throws {
        let scenario = try await PartnershipScenario()
        let space = PartnershipScenario.space
        let before = try scenario.ada.heldVectors()
        let session = scenario.sessions[0]
        // Ben: a session, two insights, an action, and a session he creates and deletes.
        try await scenario.ben.edit(in: space) { editor in
            let visit = try editor.createSession(title: "Second visit", scheduledAt: march2025(28))
            let first = try editor.captureInsight(in: visit, text: "Noticed.")
            try editor.captureInsight(in: session, text: "Later thought.")
            try editor.addAction("Follow up", session: visit)
            try editor.set(Insight.Key.kind, of: first, to: .feedback)  // an edit, not a creation
            let mistake = try editor.createSession(title: "Mistake")
            try editor.delete(mistake)
        }
        // Ada's own session while the sync runs is not an arrival.
        try await scenario.ada.edit(in: space) { editor in _ = try editor.createSession(title: "Mine") }
        #expect(try await scenario.ada.arrivals(since: before) == SyncArrivals())
        try await signedSync(space, from: scenario.ben, to: scenario.ada, evidence: scenario.evidence)

        let arrived = try await scenario.ada.arrivals(since: before)
        #expect(arrived.sessions == 1 && arrived.insights == 2 && arrived.actions == 1)
        #expect(arrived.authors.map(\.name) == ["Ben Okafor (Vale Academy)"])
        #expect(arrived.authors.map(\.author.device) == [PartnershipScenario.benDevice])
        #expect(arrived.authors.map(\.total) == [4])
        #expect(!arrived.isEmpty)
        #expect(SyncArrivals.counts(sessions: 1, insights: 2, actions: 0) == "1 session, 2 insights, 0 actions")
        // Nothing arrives twice: since what Ada holds now, nothing.
        #expect(try await scenario.ada.arrivals(since: try scenario.ada.heldVectors()).isEmpty)
    }
}
