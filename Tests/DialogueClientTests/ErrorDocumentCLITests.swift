import DialogueTestSupport
import Foundation
import Testing

/// Failures as scripts and people see them, through the real `dialogue-client`: with
/// `--json` one JSON document on stderr (`code`, `exit`, `message`), whatever failed (the
/// command, the argument parser, the network); without it one `error:` line, and no log
/// lines unless `--verbose`.
@Suite("dialogue-client error documents and log lines")
struct ErrorDocumentCLITests {
    /// stderr as the one JSON document it must be: exactly the keys `code`, `exit`, `message`.
    static func document(_ result: Run, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try #require(
            try? JSONSerialization.jsonObject(with: Data(result.stderr.utf8)) as? [String: Any],
            "stderr is not one JSON document: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(Set(object.keys) == ["code", "exit", "message"], "\(object)", sourceLocation: sourceLocation)
        #expect(object["exit"] as? Int == Int(result.status), "\(object)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "a failure printed on stdout: \(result.stdout)", sourceLocation: sourceLocation)
        return object
    }

    @Test("the library's 'no such entity' is the command line's not_found (66): one code for one thing")
    func libraryNotFoundIsNotFound() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        let (first, second) = (UUID().uuidString, UUID().uuidString)
        try await leader.ok(["init", "--space", first])
        try await leader.ok(["init", "--space", second])
        // A prompt held in one space, put on the agenda of a session of the other: the space has no such prompt.
        try await leader.ok(["prompts", "add", "What did pupils do with feedback?", "--space", first])
        try await leader.ok(["sessions", "create", "--title", "Visit", "--space", second])
        let result = try await leader.client(["prompts", "add-to-agenda", "Visit", "What did pupils do with feedback?", "--json"])
        #expect(result.status == 66, "\(result)")
        #expect(try Self.document(result)["code"] as? String == "not_found", "\(result.stderr)")
    }

    @Test("an unknown id: exit 66, code not_found, the message as the text form gives it")
    func unknownID() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let unknown = "00000000-0000-4000-8000-000000000001"
        let json = try await leader.client(["sessions", "show", unknown, "--json"])
        #expect(json.status == 66)
        let document = try Self.document(json)
        #expect(document["code"] as? String == "not_found")
        let text = try await leader.client(["sessions", "show", unknown])
        #expect(text.status == 66)
        #expect(text.stderr == "error: \(try #require(document["message"] as? String))\n", "\(text.stderr)")
    }

    @Test(
        "errors the argument parser finds are JSON too with --json: code usage, exit 64",
        arguments: [
            ["sessions", "show"],  // a missing argument
            ["sessions", "list", "--bogus"],  // an unknown option
            ["sessions", "frobnicate"],  // an unknown subcommand
            ["sync", "--attempts", "0"],  // a value the command's validation refuses
        ])
    func usageErrors(_ arguments: [String]) async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let json = try await leader.client(arguments + ["--json"])
        #expect(json.status == 64, "\(json.stderr)")
        let document = try Self.document(json)
        #expect(document["code"] as? String == "usage")
        #expect((document["message"] as? String)?.isEmpty == false)
        // Without --json: text, as before.
        let text = try await leader.client(arguments)
        #expect(text.status == 64 && !text.stderr.hasPrefix("{"), "\(text.stderr)")
    }

    @Test("--help and --version print text even with --json, and exit 0")
    func helpStaysText() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        let help = try await leader.client(["sessions", "list", "--help", "--json"])
        #expect(help.status == 0 && help.stdout.contains("USAGE:"), "\(help.stdout)")
    }

    @Test("an offline sync: only the error at the default level; the retries with --verbose; one JSON document with --json")
    func offlineSync() async throws {
        let scratch = Scratch()
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        try await leader.storeLogin(server: "http://127.0.0.1:\(try freeTCPPort())")

        let quiet = try await leader.client(["sync", "--attempts", "3"])
        #expect(quiet.status == 69)
        let lines = quiet.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: cannot reach the server"), "\(quiet.stderr)")

        let verbose = try await leader.client(["sync", "--attempts", "3", "--verbose"])
        #expect(verbose.status == 69)
        let retries = verbose.stderr.split(separator: "\n").filter { $0.contains("sync request failed; retrying") }
        #expect(retries.count == 2, "\(verbose.stderr)")
        #expect(verbose.stderr.split(separator: "\n").last?.hasPrefix("error: cannot reach the server") == true, "\(verbose.stderr)")

        let json = try await leader.client(["sync", "--attempts", "3", "--json"])
        #expect(json.status == 69)
        let document = try Self.document(json)
        #expect(document["code"] as? String == "unreachable")
        #expect((document["message"] as? String)?.hasPrefix("cannot reach the server") == true)
    }
}
