import DialogueModel
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite("Replica basics")
struct ReplicaSmokeTests {
    let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000aaaa")!)

    @Test("edits persist, reopen rebuilds the same state, bundles carry changes across")
    func editPersistAndExchange() async throws {
        let directory = TemporaryDirectory()
        let alice = try Replica(path: directory.path("alice.sqlite"))
        try await alice.addSpace(space)
        let session = try await alice.edit(in: space) { editor in
            let session = try editor.createSession(title: "Feedback that moves learning on", strategy: .dialogue)
            try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "We looked at marking.")
            let prompt = try editor.createPrompt("What is your role?")
            try editor.addToAgenda(prompt, of: session)
            try editor.captureInsight(in: session, text: "Pupils act on feedback", hallmarks: [.organisationalLearning])
            return session
        }
        let exportBefore = try #require(await alice.document(space)).canonicalExport()

        // Reopening rebuilds the pure state from the log.
        let reopened = try Replica(path: directory.path("alice.sqlite"))
        #expect(reopened.id == alice.id)
        #expect(try #require(await reopened.document(space)).canonicalExport() == exportBefore)

        // A second replica receives everything through a bundle.
        let bob = try Replica(path: directory.path("bob.sqlite"))
        let trust = BundleTrust()
        try await trust.login(alice, shared: [space])
        try await trust.login(bob, shared: [space])
        let bundle = directory.url.appendingPathComponent("alice.dlgb")
        let summary = try alice.exportBundle(to: bundle)
        #expect(summary.changes > 0)
        let report = try await bob.importBundle(from: bundle)
        #expect(report.applied == summary.changes)
        #expect(try #require(await bob.document(space)).canonicalExport() == exportBefore)
        // Importing again changes nothing.
        let again = try await bob.importBundle(from: bundle)
        #expect(again.applied == 0)
        #expect(again.alreadyHeld == summary.changes)

        // Materialised rows on the receiver.
        let title = try await bob.database.read { db in
            try String.fetchOne(db, sql: "SELECT title FROM sessions WHERE session_id = ?", arguments: [session.blob])
        }
        #expect(title == "Feedback that moves learning on")
        let summaryText = try await bob.database.read { db in
            try String.fetchOne(db, sql: "SELECT summary FROM sessions WHERE session_id = ?", arguments: [session.blob])
        }
        #expect(summaryText == "We looked at marking.")
        let hits = try await bob.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM search_index WHERE search_index MATCH 'marking'")
        }
        #expect(hits == 1)
    }
}
