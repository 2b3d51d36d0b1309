import DialogueModel
import Foundation
import Testing

@testable import DialogueSync

/// Issue 14, item 4: a refused value names its field as a person sees it ("the action's
/// due date"), never by its stored name ("action.dueDate").
@Suite("Refused values in the user's words")
struct FieldWordsTests {
    @Test("regression: 'action.dueDate must be…'; now 'the action's due date must be…', and nothing is written")
    func dueDate() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("r.sqlite"))
        let space = SpaceID(UUID())
        try await replica.addSpace(space)
        let session = try await replica.edit(in: space) { editor in try editor.createSession(title: "Visit") }
        await #expect {
            try await replica.edit(in: space) { editor in
                _ = try editor.addAction("Share the rubric", dueDate: "31/02/2025", session: session)
            }
        } throws: { error in
            let message = "\(error)"
            return message.contains("the action's due date must be a date as 2025-03-14") && !message.contains("dueDate")
        }
        #expect(try replica.session(session)?.actions.isEmpty == true)
    }
}
