import Foundation
import Testing

/// `dialogue-client sync` says what arrived: after its summary line, one line per author of
/// the new sessions, insights and actions (`--json`: `arrived`).
@Suite("dialogue-client sync: what arrived")
struct SyncArrivalsCLITests {
    @Test("a colleague's new session, insight and action are listed by author after the summary line, once")
    func syncSaysWhatArrived() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let hill = Leader("hill", in: scratch)
        let vale = Leader("vale", in: scratch)
        for (name, leader) in [("hill", hill), ("vale", vale)] {
            try await leader.ok(["init", "--space", server.sharedSpace])
            let tokenFile = scratch.path("\(name).token")
            try Data(server.tokens[name]!.utf8).write(to: URL(fileURLWithPath: tokenFile))
            try await leader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        }
        let created = try await hill.json(["sessions", "create", "--title", "Feedback", "--at", "2025-03-14"])
        let session = try #require((created as? [String: Any])?["session"] as? String)
        try await hill.ok(["insights", "capture", session, "Peer feedback needs modelling first."])
        try await hill.ok(["actions", "add", "Draft the guide", "--session", session])
        // Hill's own sync brings nothing new to Hill.
        let sent = try await hill.ok(["sync"])
        #expect(!sent.contains("new from"), "\(sent)")

        let received = try await vale.ok(["sync"]).split(separator: "\n").map(String.init)
        #expect(received.count >= 2, "\(received)")
        #expect(received.first?.hasPrefix("synced ") == true, "\(received)")
        #expect(received.dropFirst().first == "new from Leader at hill (Hill School): 1 session, 1 insight, 1 action", "\(received)")

        // Nothing more: no line; --json says so with zeros.
        let again = try #require(try await vale.json(["sync"]) as? [String: Any])
        let arrived = try #require(again["arrived"] as? [String: Any])
        #expect(arrived["sessions"] as? Int == 0 && arrived["insights"] as? Int == 0 && arrived["actions"] as? Int == 0)
        #expect((arrived["authors"] as? [Any])?.isEmpty == true)
        try await hill.ok(["insights", "capture", session, "A second thought."])
        try await hill.ok(["sync"])
        let json = try #require(try await vale.json(["sync"]) as? [String: Any])
        let second = try #require(json["arrived"] as? [String: Any])
        #expect(second["insights"] as? Int == 1 && second["sessions"] as? Int == 0)
        let authors = try #require(second["authors"] as? [[String: Any]])
        #expect(authors.map { $0["name"] as? String } == ["Leader at hill (Hill School)"])
        #expect(!(try await vale.ok(["sync"])).contains("new from"))
    }
}
