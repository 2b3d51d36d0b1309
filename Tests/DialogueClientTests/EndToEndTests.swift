import Foundation
import Testing

/// Two leaders' replicas, driven through the built `dialogue-client`, syncing through a live `dialogue-server`.
@Suite("dialogue-client end to end")
struct EndToEndTests {
    @Test("offline edits to the same session on two replicas merge; both JSON exports are identical; conflicts lists what lost")
    func twoLeadersConverge() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let hill = Leader("hill", in: scratch)
        let vale = Leader("vale", in: scratch)
        for (name, leader) in [("hill", hill), ("vale", vale)] {
            try await leader.ok(["init", "--space", server.sharedSpace])
            let tokenFile = scratch.path("\(name).token")
            try Data(server.tokens[name]!.utf8).write(to: URL(fileURLWithPath: tokenFile))
            let login = try await leader.client([
                "login", "--server", server.url, "--token-file", tokenFile,
            ])
            #expect(login.status == 0, "\(login.stderr)")
            #expect(!login.stdout.contains(server.tokens[name]!) && !login.stderr.contains(server.tokens[name]!), "the token was echoed")
            let attributes = try FileManager.default.attributesOfItem(atPath: leader.replica + ".login.json")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }

        // Hill plans the session and shares it.
        let created = try await hill.json([
            "sessions", "create", "--title", "Feedback that moves learning on", "--at", "2025-03-14T09:30:00Z", "--host-school",
            server.schools["hill"]!, "--facilitator", server.members["hill"]!, "--strategy", "dialogue",
        ])
        let session = try #require((created as? [String: Any])?["session"] as? String)
        try await hill.ok(["sessions", "edit", session, "--summary", "We agreed to try peer feedback."])
        try await hill.ok(["sync"])
        try await vale.ok(["sync"])
        #expect(try await vale.ok(["sessions", "list"]).contains("Feedback that moves learning on"))

        // Offline on both: the same title set differently, the summary edited at both ends, an insight each.
        try await hill.ok([
            "sessions", "edit", session, "--title", "Hill's title", "--summary", "We agreed to try peer feedback. Hill: start in Year 5.",
        ])
        try await hill.ok(["insights", "capture", session, "Peer feedback needs modelling first.", "--hallmark", "synergy"])
        try await vale.ok([
            "sessions", "edit", session, "--title", "Vale's title", "--summary", "Vale: yes. We agreed to try peer feedback.",
        ])
        try await vale.ok(["insights", "capture", session, "-"], input: "Pupils want clearer success criteria.\n")
        try await vale.ok(["sessions", "add-participant", session, server.members["vale"]!])
        let status = try await hill.ok(["status"])
        let sharedRow = status.split(separator: "\n").first { $0.hasPrefix("North Partnership ") } ?? ""
        #expect(!sharedRow.isEmpty && !sharedRow.contains("  0  "), "hill has unsynced changes: \(status)")

        try await hill.ok(["sync"])
        try await vale.ok(["sync"])
        try await hill.ok(["sync"])

        let hillExport = try await hill.ok(["export", "--session", session, "--format", "json"])
        let valeExport = try await vale.ok(["export", "--session", session, "--format", "json"])
        #expect(hillExport == valeExport)
        #expect(hillExport.contains("Peer feedback needs modelling first.") && hillExport.contains("Pupils want clearer success criteria."))
        #expect(
            hillExport.contains("Vale: yes.") && hillExport.contains("Hill: start in Year 5."), "both summary edits kept: \(hillExport)")

        // The title conflict: one value kept, the other listed as lost, on both replicas.
        for leader in [hill, vale] {
            let conflicts = try #require(try await leader.json(["conflicts"]) as? [[String: Any]])
            let title = try #require(conflicts.first { $0["field"] as? String == "title" })
            let kept = (title["kept"] as? [String: Any])?["value"] as? String
            let lost = ((title["lost"] as? [[String: Any]]) ?? []).compactMap { $0["value"] as? String }
            #expect(Set([kept].compactMap { $0 } + lost) == ["Hill's title", "Vale's title"], "\(conflicts)")
        }
        let hillStatus = try #require(try await hill.json(["status"]) as? [String: Any])
        let spaces = try #require(hillStatus["spaces"] as? [[String: Any]])
        #expect(spaces.first?["unsyncedChanges"] as? Int == 0)
        #expect(spaces.first?["lastSync"] is String)

        // Markdown minutes and a report.
        let minutes = try await vale.ok(["export", "--session", session, "--format", "markdown"])
        #expect(minutes.contains("## Insights") && minutes.contains("Pupils want clearer success criteria."))
        let report = try #require(try await hill.json(["report", "--from", "2025-03-01", "--to", "2025-03-31"]) as? [String: Any])
        #expect(report["sessions"] as? Int == 1)
        #expect(report["distinctFacilitators"] as? Int == 1)

        // A revoked or wrong token is refused by the server, at login now (it registers the
        // device): exit 69 with what to do, and the stored login is kept.
        let bogus = scratch.path("bogus.token")
        try Data("dlg_not-a-real-token".utf8).write(to: URL(fileURLWithPath: bogus))
        let refused = try await hill.client(["login", "--server", server.url, "--token-file", bogus])
        #expect(refused.status == 69)
        #expect(refused.stderr.contains("401") && refused.stderr.contains("login"), "\(refused.stderr)")
        try await hill.ok(["sync"])
    }
}
