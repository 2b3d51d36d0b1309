import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Testing

@Suite("End-to-end sync through the server")
struct EndToEndSyncTests {
    @Test("three replicas edit one session offline, sync in different orders, converge; losers visible")
    func threeReplicasConverge() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let space = accounts.partnership.sharedSpace
        try await withLiveServer(store: store) { url in
            let replicas = try (0..<3).map { try Replica(path: directory.path("replica-\($0).sqlite")) }
            var clients: [SyncClient] = []
            for (replica, token) in zip(replicas, ["hill-member", "vale-member", "hill-admin"]) {
                clients.append(try await loggedIn(replica, to: url, token: accounts.tokens[token]!))
            }
            for replica in replicas { try await replica.addSpace(space) }
            // One leader creates the session and everyone gets it.
            let session = try await replicas[0].edit(in: space) { editor in
                let session = try editor.createSession(title: "Feedback that moves learning on")
                try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "We met.")
                for text in ["Who speaks?", "What changed?", "What next?"] {
                    try editor.addToAgenda(try editor.createPrompt(text), of: session)
                }
                return session
            }
            for (replica, client) in zip(replicas, clients) { try await client.sync(replica) }
            // Offline: everyone edits the same scalar, text, set and agenda.
            for (index, replica) in replicas.enumerated() {
                try await replica.edit(in: space) { editor in
                    try editor.set(DialogueSession.Field.title, of: session, to: .string("Title from \(index)"))
                    try editor.editText(DialogueSession.Field.summary, of: session, at: 7, insert: " Note \(index).")
                    try editor.addParticipant(EntityID(UUID()), to: session)
                    try editor.moveOnAgenda(from: index, to: 2 - index, of: session)
                }
            }
            // Sync in different orders, twice round so everyone hears everything.
            for order in [[2, 0, 1], [1, 2, 0]] {
                for index in order { try await clients[index].sync(replicas[index]) }
            }
            let exports = try await replicas.asyncMap { try #require(await $0.document(space)).canonicalExport() }
            #expect(exports.allSatisfy { $0 == exports[0] })
            let document = try #require(await replicas[0].document(space))
            let summary = document.text(DialogueSession.Field.summary, of: session)
            for index in 0..<3 { #expect(summary.contains("Note \(index).")) }
            #expect(document.members(DialogueSession.Field.participants, of: session).count == 3)
            #expect(document.items(DialogueSession.Field.agenda, of: session).count == 3)
            // The scalar conflict: one winner, the two losing titles kept and queryable.
            let conflicts = try replicas[1].conflicts(in: space)
            let title = try #require(conflicts.first { $0.field == DialogueSession.Field.title })
            #expect(title.losers.count == 2)
            // Equal to the pure model built from every change the server holds.
            var pure = SpaceDocument(space: space)
            let page = try replicas[2].changes(in: space, missingFrom: VersionVector(), limit: 100_000)
            try pure.apply(page.changes)
            #expect(pure.canonicalExport() == exports[0])
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
