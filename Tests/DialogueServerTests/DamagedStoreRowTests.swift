import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// A server store whose own tables hold what the server never writes there (a hand edit,
/// an older version, a damaged disk). GRDB's typed subscripts trapped on a wrongly typed
/// SQLite value (a member's name, a vector's counter: every request touching the row killed
/// the server); PostgreSQL types its columns, so there a damaged change body is what can be
/// planted. Each is now a 500 `internal_error`, logged, and the server keeps answering.
@Suite("Damaged server store rows")
struct DamagedStoreRowTests {
    /// What is planted, per store, and whose request meets it.
    struct Planting: Sendable, CustomTestStringConvertible {
        var kind: StoreKind
        var name: String
        /// SQL run on the store's database (`?` for SQLite, `$1` for psql: the shared space).
        var sql: String
        var testDescription: String { "\(kind.rawValue): \(name)" }
    }

    static let plantings = [
        Planting(kind: .sqlite, name: "a vector's counter stored as text", sql: "UPDATE server_vectors SET counter = 'many'"),
        Planting(kind: .sqlite, name: "a member's name stored as a blob (not UTF-8)", sql: "UPDATE members SET name = x'ff'"),
        Planting(kind: .sqlite, name: "a change body that is no change block", sql: "UPDATE server_changes SET body = x'00ff'"),
        Planting(kind: .postgres, name: "a change body that is no change block", sql: "UPDATE server_changes SET body = '\\x00ff'::bytea"),
    ]

    @Test("a damaged stored row: 500 internal_error, logged, no crash; the server keeps answering", arguments: plantings)
    func damagedRow(_ planting: Planting) async throws {
        try await withFreshStore(planting.kind) { fresh in
            let accounts = try await AccountFixture.make(fresh.store)
            let (logger, lines) = CapturingLogHandler.logger()
            let server = SyncServer(service: SyncService(store: fresh.store, logger: logger), metrics: nil, logger: logger)
            let devices = TestDevices()
            try await Application(router: server.router(), logger: logger).test(.router) { client in
                @Sendable func sync(_ request: SyncRequest, as token: String) async throws -> TestResponse {
                    let signed = try await devices.signed(request, token: accounts.tokens[token]!, store: fresh.store)
                    return try await client.execute(
                        uri: "/v1/sync", method: .post,
                        headers: [.authorization: "Bearer \(accounts.tokens[token]!)", .contentType: "application/json"],
                        body: ByteBuffer(bytes: try encodeJSON(signed)))
                }
                var author = ChangeAuthor(space: accounts.partnership.sharedSpace)
                #expect(try await sync(RouteHarness.push(author.creates(3), to: author.space), as: "hill-member").status == .ok)

                try await Self.plant(planting, in: fresh)

                let pull = SyncRequest(replica: nil, spaces: [.init(space: author.space, have: VersionVector())])
                let response = try await sync(pull, as: "vale-member")
                try expectRefusal(response, 500, .internalError)
                #expect(
                    !response.text.contains("many") && !response.text.contains("server_"), "leaks the store's details: \(response.text)")
                // Still answering.
                #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            }
            let failures = lines.all.filter { $0.level == .error && $0.message == "request failed" }
            #expect(!failures.isEmpty, "the failure was not logged")
        }
    }

    static func plant(_ planting: Planting, in fresh: FreshStore) async throws {
        switch planting.kind {
        case .sqlite:
            let queue = try DatabaseQueue(path: fresh.directory.path("server.sqlite"))
            try await queue.write { db in
                try db.execute(sql: planting.sql)
                #expect(db.changesCount > 0, "planted nothing")
            }
            try queue.close()
        case .postgres:
            let database = try #require(fresh.database)
            let result = try await runProcess(
                PostgresTestDatabase.psql, [database.url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", planting.sql])
            #expect(result.status == 0, "psql: \(result.stderr)")
        }
    }
}
