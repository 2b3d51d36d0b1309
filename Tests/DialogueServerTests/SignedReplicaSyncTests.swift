import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Testing

/// Replicas that sign each transaction, syncing through a server that verifies every push
/// (docs/TRUST.md).
struct SignedReplicaSyncTests {
    @Test("three logged-in replicas of two schools sync signed through a verifying server, in small pages, and converge")
    func signedReplicasConvergeThroughAVerifyingServer() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let space = accounts.partnership.sharedSpace
        try await withLiveServer(store: store) { url in
            var replicas: [Replica] = []
            var clients: [SyncClient] = []
            for (index, token) in ["hill-member", "vale-member", "hill-admin"].enumerated() {
                let replica = try Replica(path: directory.path("r\(index).sqlite"))
                try await replica.addSpace(space)
                var configuration = SyncClient.Configuration(server: url, token: accounts.tokens[token]!)
                configuration.pageSize = 2  // pages cut at signed heads: each runs over to reach one
                configuration.pushBatch = 2
                let client = SyncClient(configuration: configuration)
                _ = try await client.registerDevice(replica)
                replicas.append(replica)
                clients.append(client)
            }
            for round in 0..<3 {
                for (index, replica) in replicas.enumerated() {
                    try await replica.edit(in: space) { editor in
                        let session = try editor.createSession(title: "Round \(round) by \(index)")
                        try editor.replaceText(DialogueSession.Field.summary, of: session, with: "Notes \(round)")
                    }
                    try await clients[index].sync(replica, spaces: [space])
                }
            }
            for (index, replica) in replicas.enumerated() { try await clients[index].sync(replica, spaces: [space]) }
            var exports: [[UInt8]] = []
            for replica in replicas { exports.append(try #require(await replica.document(space)).canonicalExport()) }
            #expect(exports.allSatisfy { $0 == exports[0] })
            // Each replica holds every device's certificate it verified with.
            #expect(try replicas[0].certificates().count == 3)
        }
    }
}
