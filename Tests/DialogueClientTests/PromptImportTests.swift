import Foundation
import Testing

@Suite("prompts import")
struct PromptImportTests {
    func promptCount(_ leader: Leader) async throws -> Int {
        let listed = try #require(try await leader.json(["prompts", "list"]) as? [[String: Any]])
        return listed.filter { $0["space"] is String && $0["starter"] as? Bool == false }.count
    }

    @Test("a malformed CSV line is rejected with its line number and nothing is imported")
    func malformedCSV() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let file = scratch.path("prompts.csv")
        try Data("text,theme,source\n\"What went well?\",Feedback,Staff meeting\nOnly two,fields\n".utf8).write(
            to: URL(fileURLWithPath: file))
        let result = try await leader.client(["prompts", "import", file])
        #expect(result.status == 65)
        #expect(result.stderr.contains("prompts.csv:3:") && result.stderr.contains("nothing was imported"), "\(result.stderr)")
        #expect(try await promptCount(leader) == 0)

        let unclosed = scratch.path("unclosed.csv")
        try Data("text,theme,source\nfine,a,b\n\"never closed,a,b\n".utf8).write(to: URL(fileURLWithPath: unclosed))
        let second = try await leader.client(["prompts", "import", unclosed])
        #expect(second.status == 65 && second.stderr.contains("unclosed.csv:3:"), "\(second.stderr)")
        #expect(try await promptCount(leader) == 0)
    }

    @Test("a good CSV file and a text file import every prompt")
    func goodFiles() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let csv = scratch.path("prompts.csv")
        try Data("text,theme,source\n\"What went well, and why?\",Feedback,\"Staff \"\"INSET\"\"\"\nWho leads next?,,\n".utf8)
            .write(to: URL(fileURLWithPath: csv))
        try await leader.ok(["prompts", "import", csv])
        let text = scratch.path("prompts.txt")
        try Data("First question?\n\nSecond question?\n".utf8).write(to: URL(fileURLWithPath: text))
        try await leader.ok(["prompts", "import", text])
        #expect(try await promptCount(leader) == 4)
        let listing = try await leader.ok(["prompts", "list"])
        #expect(listing.contains("What went well, and why?"))
    }

    @Test("a text file with a control character is rejected with the line number")
    func malformedText() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let file = scratch.path("prompts.txt")
        try Data("Fine?\nBroken\u{7}line\n".utf8).write(to: URL(fileURLWithPath: file))
        let result = try await leader.client(["prompts", "import", file])
        #expect(result.status == 65 && result.stderr.contains("prompts.txt:2:"), "\(result.stderr)")
        #expect(try await promptCount(leader) == 0)
    }
}
