import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// What the erasure tests share: an insight with distinctive words, the approval route, and
/// a byte search of every file a store keeps (docs/PRIVACY.md, "Erasure").
enum ErasureScenario {
    /// Words that appear nowhere else: the erased insight's text.
    static let erasedWords = "Quokka-Zebra whispered the pupil premium figures"
    /// Words of the same space that stay: the session's title.
    static let keptWords = "Marmoset-Heron feedback session"

    /// A session titled with ``keptWords`` and an insight in it by `author` (member `member`)
    /// whose text is `text`: the changes, the insight's id.
    static func insight(
        by author: inout ChangeAuthor, member: UUID, text: String = erasedWords
    ) throws -> (
        changes: [Change], insight: EntityID
    ) {
        let session = EntityID(UUID())
        let insight = EntityID(UUID())
        var changes = [author.document.create(session, kind: EntityKind.session.rawValue, by: author.context())]
        changes.append(author.document.set(DialogueSession.Field.title, of: session, to: .string(keptWords), by: author.context()))
        changes.append(author.document.create(insight, kind: EntityKind.insight.rawValue, by: author.context()))
        changes.append(author.document.set(Insight.Field.session, of: insight, to: .reference(session), by: author.context()))
        changes.append(author.document.set(Insight.Field.author, of: insight, to: .reference(EntityID(member)), by: author.context()))
        changes += try author.document.editText(Insight.Field.text, of: insight, at: 0, insert: text, by: author.context())
        return (changes, insight)
    }

    // MARK: Byte search

    /// The files of `fresh`'s store that hold `text` (its bytes, UTF-8), after making them
    /// current: SQLite's db, `-wal` and `-shm`; for PostgreSQL every file of the test
    /// cluster's data directory, WAL included, once it is checkpointed and its segment
    /// switched (so segments holding only older WAL are removed: `wal_recycle` is off).
    static func files(of fresh: FreshStore, holding text: String) async throws -> [String] {
        let paths: [String]
        switch fresh.kind {
        case .sqlite:
            let database = fresh.directory.path("server.sqlite")
            paths = [database, database + "-wal", database + "-shm"].filter { FileManager.default.fileExists(atPath: $0) }
            #expect(paths.contains(database))
        case .postgres:
            let admin = try #require(fresh.database).adminURL
            let recycle = try await psql(admin, "SHOW wal_recycle")
            guard recycle == "off" else {
                throw TestSetupFailure(
                    description:
                        "the test cluster recycles WAL segments (wal_recycle = \(recycle)); start it with scripts/postgres, which turns it off"
                )
            }
            for statement in ["CHECKPOINT", "SELECT pg_switch_wal()", "CHECKPOINT", "SELECT pg_switch_wal()", "CHECKPOINT"] {
                _ = try await psql(admin, statement)
            }
            let directory = try await psql(admin, "SHOW data_directory")
            paths = try regularFiles(under: directory)
            #expect(paths.count > 100, "the data directory \(directory) was not readable: \(paths.count) files")
        }
        let needle = Array(text.utf8)
        return try paths.filter { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                // Other tests drop their databases meanwhile: a file gone holds nothing.
                guard !FileManager.default.fileExists(atPath: path) else { throw TestSetupFailure(description: "cannot read \(path)") }
                return false
            }
            return data.withUnsafeBytes { bytes in contains(bytes, needle) }
        }
    }

    static func psql(_ url: String, _ statement: String) async throws -> String {
        let result = try await runProcess(PostgresTestDatabase.psql, [url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement])
        guard result.status == 0 else { throw TestSetupFailure(description: "psql \(statement): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func regularFiles(under directory: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else {
            throw TestSetupFailure(description: "cannot list \(directory)")
        }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue { files.append(path) }
        }
        return files
    }

    private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, (1..<needle.count).allSatisfy({ haystack[index + $0] == needle[$0] }) { return true }
            index += 1
        }
        return false
    }
}

extension RouteHarness {
    /// POSTs `body` to `/v1/erasures/approval` with the fixture token `token`.
    func requestApproval(_ body: [UInt8], token: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/v1/erasures/approval", method: .post,
            headers: [.contentType: "application/json", .authorization: "Bearer \(accounts.tokens[token] ?? token)"],
            body: ByteBuffer(bytes: body))
    }

    /// The approval the server gives the fixture token `token` for `replica` erasing `target` in `space`.
    func approval(
        _ target: Erasure.Target, in space: SpaceID, for replica: ReplicaID, token: String = "hill-admin"
    ) async throws
        -> ErasureApproval
    {
        let response = try await requestApproval(
            try encodeJSON(ErasureApprovalRequest(space: space, replica: replica, target: target)), token: token)
        #expect(response.status == .ok, "\(response.text)")
        return try response.decoded(ErasureApprovalResponse.self).approval
    }

    /// The member id behind the fixture token `token`.
    func member(_ token: String) async throws -> UUID {
        try #require(try await store.token(forTokenHash: Tokens.hash(accounts.tokens[token]!))).member.id
    }
}
