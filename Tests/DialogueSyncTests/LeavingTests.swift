import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// Leaving a space (issue 13, item 4): its content leaves the replica's files, not only
/// its queries; the other spaces are untouched. Seen failing with `PRAGMA secure_delete =
/// OFF` in `leave` (Debian's SQLite defaults it on, Apple's does not) and without the FTS5
/// 'optimize' (a deleted row's terms stay in the index segments).
struct LeavingTests {
    let shared = SpaceID(UUID())
    let school = SpaceID(UUID())

    /// Every file of the replica (db, -wal, -shm) that contains `text`, as UTF-8 bytes.
    static func files(of replica: Replica, containing text: String) throws -> [String] {
        let needle = Data(text.utf8)
        return try [replica.path, replica.path + "-wal", replica.path + "-shm"].filter { path in
            guard FileManager.default.fileExists(atPath: path) else { return false }
            return try Data(contentsOf: URL(fileURLWithPath: path)).range(of: needle) != nil
        }
    }

    @Test("leave erases a space's notes from every file of the replica (db, WAL, SHM, full-text index); other spaces keep theirs")
    func leavingErasesTheSpace() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("ada.sqlite")
        var replica = try Replica(path: path)
        try await replica.addSpace(shared)
        try await replica.addSpace(school)
        let sharedWords = "Quokkaperambulation safeguarding note"
        let schoolWords = "Wombatcartography staffing note"
        let person = EntityID(UUID())
        let insight = try await replica.edit(in: shared) { editor in
            try editor.create(.member, id: person)
            try editor.set(Member.Field.displayName, of: person, to: .string("Ada Shared"))
            return try editor.captureInsight(in: try editor.createSession(title: "Partnership visit"), text: sharedWords)
        }
        try await replica.edit(in: school) { editor in
            try editor.create(.member, id: person)
            try editor.set(Member.Field.displayName, of: person, to: .string("Ada School"))
            try editor.captureInsight(in: try editor.createSession(title: "Staff meeting"), text: schoolWords)
        }
        #expect(!(try Self.files(of: replica, containing: "Quokkaperambulation")).isEmpty, "the test would prove nothing")

        let left = try await replica.leave(shared)
        #expect(left.space == shared && left.changes > 0)
        for word in ["Quokkaperambulation", "quokkaperambulation", "Partnership visit"] {
            #expect(try Self.files(of: replica, containing: word).isEmpty, "\(word) is still in a file")
        }
        #expect(await replica.spaces == [school])
        #expect(try replica.heldVectors()[shared] == nil)
        #expect(try replica.sessions(in: shared).isEmpty)
        #expect(try replica.search("quokkaperambulation").isEmpty)
        #expect(try replica.search("wombatcartography").count == 1)
        #expect(!(try Self.files(of: replica, containing: "Wombatcartography")).isEmpty)
        // The member both spaces named is still materialised, from the space still held.
        let row = try await replica.database.read { db in
            try Row.fetchOne(db, sql: "SELECT space_id, display_name FROM members WHERE member_id = ?", arguments: [person.blob])
        }
        #expect(row?["display_name"] == "Ada School")
        #expect(await replica.creator(of: insight) == nil)

        // Reopened, the replica holds only what was kept, and leaving again is an error.
        replica = try Replica(path: path)
        #expect(await replica.spaces == [school])
        #expect(try replica.search("wombatcartography").count == 1)
        await #expect(throws: ReplicaError.unknownSpace(shared)) { try await replica.leave(shared) }
        try await replica.edit(in: school) { editor in _ = try editor.createSession(title: "After") }
    }
}
