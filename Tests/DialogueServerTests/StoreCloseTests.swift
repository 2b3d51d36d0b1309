import DialogueModel
import DialogueServer
import Foundation
import Testing

/// Closing a SQLite store while another process checkpoints the same file.
@Suite("SQLite store close")
struct StoreCloseTests {
    @Test("closing never fails because another store is checkpointing the same file (admin beside a running server)")
    func closeBesideACheckpointer() async throws {
        let directory = ServerTestDirectory()
        let path = directory.path("server.sqlite")
        // The "server": writes all the time and checkpoints every millisecond.
        let server = try SQLiteSyncStore(path: path, checkpointInterval: .milliseconds(1))
        let writing = Task {
            var author = ChangeAuthor(space: SpaceID(UUID()))
            while !Task.isCancelled { try await server.append(author.creates(5), to: author.space) }
        }
        defer { writing.cancel() }
        // "admin" commands: open, read, close, many times.
        var failures: [String] = []
        for _ in 0..<150 {
            let admin = try SQLiteSyncStore(path: path)
            _ = try await admin.partnerships()
            do { try await admin.close() } catch { failures.append("\(error)") }
        }
        writing.cancel()
        _ = await writing.result
        try await server.close()
        #expect(failures.isEmpty, "\(failures.count) of 150 closes failed: \(failures.first ?? "")")
    }
}
