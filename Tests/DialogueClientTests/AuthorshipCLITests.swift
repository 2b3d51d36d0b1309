import Foundation
import Testing

/// Authorship is derived, not claimed: `insights capture --author` may only name the member
/// this device is certified for at `login` (issue 12, item 4).
@Suite("dialogue-client: authorship from the device's certificate")
struct AuthorshipCLITests {
    @Test("before login, --author naming anyone is refused (exit 65) and nothing is captured")
    func forgedAuthorBeforeLogin() async throws {
        let scratch = Scratch()
        let leader = Leader("ben", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let session = try await leader.ok(["sessions", "create", "--title", "Feedback"])
        let ada = UUID().uuidString.lowercased()
        let forged = try await leader.client(["insights", "capture", session, "Written as Ada", "--author", ada])
        #expect(forged.status == 65, "\(forged.stderr)")
        #expect(forged.stderr.contains("certified") && forged.stderr.contains("login"), "\(forged.stderr)")
        let shown = try await leader.ok(["sessions", "show", session])
        #expect(!shown.contains("Written as Ada"), "the forged insight was stored: \(shown)")
        // Without --author the insight is captured, with no author.
        try await leader.ok(["insights", "capture", session, "My own note"])
        #expect(try await leader.ok(["sessions", "show", session]).contains("My own note"))
    }
}
