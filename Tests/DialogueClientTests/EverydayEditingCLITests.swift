import DialogueTestSupport
import Foundation
import Testing

/// Issue 14, item 3, through the binary: `insights list`, delete and restore, archive,
/// an action's details and life, `--append` and `--edit`, the closed-session warning, and
/// the refusals (`sessions edit S` with nothing to change, `--edit` without a terminal).
@Suite("dialogue-client: everyday editing")
struct EverydayEditingCLITests {
    /// A replica holding one space and a session with one insight.
    static func setUp(_ scratch: Scratch) async throws -> (leader: Leader, session: String, insight: String) {
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let created = try #require(try await leader.json(["sessions", "create", "--title", "Moderation"]) as? [String: Any])
        let session = try #require(created["session"] as? String)
        let captured = try #require(
            try await leader.json(["insights", "capture", session, "Pupils explain their thinking", "--hallmark", "synergy"])
                as? [String: Any])
        return (leader, session, try #require(captured["insight"] as? String))
    }

    static func record(_ leader: Leader, _ session: String) async throws -> String {
        try await leader.ok(["sessions", "show", session, "--json"])
    }

    @Test("regression: `sessions edit S` with no option printed 'updated'; now exit 64, nothing changed")
    func editWithNothingToChange() async throws {
        let scratch = Scratch()
        let (leader, session, insight) = try await Self.setUp(scratch)
        let before = try await leader.ok(["status", "--json"])
        let result = try await leader.client(["sessions", "edit", session])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("say what to change") && !result.stdout.contains("updated"), "\(result)")
        #expect(try await leader.ok(["status", "--json"]) == before)
        let noText = try await leader.client(["insights", "edit", insight])
        #expect(noText.status == 64 && noText.stderr.contains("give the new text"), "\(noText)")
        let action = try await leader.ok(["actions", "add", "Share samples", "--session", session])
        let edit = try await leader.client(["actions", "edit", action])
        #expect(edit.status == 64 && edit.stderr.contains("say what to change"), "\(edit)")
    }

    @Test("sessions, insights, actions and prompts: delete hides, restore brings back; --json says what was done")
    func deleteAndRestore() async throws {
        let scratch = Scratch()
        let (leader, session, insight) = try await Self.setUp(scratch)
        let before = try await Self.record(leader, session)
        let deleted = try #require(try await leader.json(["sessions", "delete", "Moderation"]) as? [String: Any])
        #expect(deleted["deleted"] as? String == session && deleted["kind"] as? String == "session", "\(deleted)")
        #expect(try await leader.ok(["sessions", "list"]) == "no sessions")
        #expect(try await leader.ok(["insights", "list"]) == "no insights", "a deleted session hides its insights")
        #expect(try await leader.client(["sessions", "show", session]).status == 66)
        let again = try await leader.client(["sessions", "delete", session])
        #expect(again.status == 66, "\(again)")
        let restored = try await leader.ok(["sessions", "restore", "moderation"])
        #expect(restored.hasPrefix("restored dialogue session "), "\(restored)")
        #expect(try await Self.record(leader, session) == before)
        let live = try await leader.client(["sessions", "restore", session])
        #expect(live.status == 66 && live.stderr.contains("no deleted dialogue session"), "\(live)")

        let text = try await leader.ok(["insights", "delete", String(insight.prefix(8))])
        #expect(text.contains("insights restore"), "\(text)")
        #expect(try await leader.ok(["insights", "list"]) == "no insights")
        let trash = try await leader.ok(["insights", "deleted"])
        #expect(trash.contains(String(insight.prefix(8))) && trash.contains("Pupils explain their thinking"), "\(trash)")
        let trashJSON = try #require(try await leader.json(["insights", "deleted"]) as? [[String: Any]])
        #expect(trashJSON.map { $0["id"] as? String } == [insight] && trashJSON.first?["kind"] as? String == "insight", "\(trashJSON)")
        #expect(try await leader.ok(["sessions", "deleted"]) == "no deleted sessions")
        try await leader.ok(["insights", "restore", String(insight.prefix(8))])
        #expect(try await leader.ok(["insights", "list"]).contains("Pupils explain their thinking"))

        let action = try await leader.ok(["actions", "add", "Share samples", "--session", session])
        try await leader.ok(["actions", "delete", action])
        #expect(try await leader.ok(["actions", "list", "--all"]) == "no actions")
        let json = try #require(try await leader.json(["actions", "restore", action]) as? [String: Any])
        #expect(json["restored"] as? String == action && json["kind"] as? String == "action", "\(json)")

        let prompt = try await leader.ok(["prompts", "add", "What did pupils do with feedback?"])
        try await leader.ok(["prompts", "delete", "What did pupils do with feedback?"])
        #expect(!(try await leader.ok(["prompts", "list"])).contains("What did pupils do with feedback?"))
        try await leader.ok(["prompts", "restore", prompt])
        #expect(try await leader.ok(["prompts", "list"]).contains("What did pupils do with feedback?"))
        #expect(try await Self.record(leader, session).contains("Share samples"))
    }

    @Test("insights list filters by session, author and hallmark (combined), shows short ids, and --json gives full records")
    func insightsList() async throws {
        let scratch = Scratch()
        let (leader, session, insight) = try await Self.setUp(scratch)
        let other = try await leader.ok(["sessions", "create", "--title", "Book look"])
        try await leader.ok(["insights", "capture", other, "Feedback is acted on", "--hallmark", "organisational-learning"])
        try await leader.ok(["insights", "capture", other, "Peer review works", "--hallmark", "synergy"])
        let all = try await leader.ok(["insights", "list"])
        #expect(all.split(separator: "\n").count == 4, "a header and three rows: \(all)")
        #expect(
            !all.contains(insight) && all.contains(String(insight.lowercased().replacingOccurrences(of: "-", with: "").prefix(8))), "\(all)"
        )
        let synergy = try #require(try await leader.json(["insights", "list", "--hallmark", "synergy"]) as? [[String: Any]])
        #expect(Set(synergy.compactMap { $0["text"] as? String }) == ["Pupils explain their thinking", "Peer review works"])
        let both = try #require(
            try await leader.json(["insights", "list", "--hallmark", "synergy", "--session", "Book look"]) as? [[String: Any]])
        #expect(both.map { $0["text"] as? String } == ["Peer review works"], "\(both)")
        #expect(both.first?["session"] as? String == other, "\(both)")
        let inSession = try #require(try await leader.json(["insights", "list", "--session", session]) as? [[String: Any]])
        #expect(inSession.map { $0["id"] as? String } == [insight])
        let stranger = try await leader.client(["insights", "list", "--author", UUID().uuidString])
        #expect(stranger.status == 66, "an unknown author is refused: \(stranger)")
        let unknown = try await leader.client(["insights", "list", "--session", "No such session"])
        #expect(unknown.status == 66, "\(unknown)")
        #expect(try await leader.ok(["insights", "list", "--session", session, "--hallmark", "organisational-learning"]) == "no insights")
    }

    @Test("actions: edit description and due date, cancel, reopen; list --status and --all; a bad date is refused (64), nothing changed")
    func actions() async throws {
        let scratch = Scratch()
        let (leader, session, _) = try await Self.setUp(scratch)
        let action = try await leader.ok(["actions", "add", "Share samples", "--session", session, "--due", "2025-03-01"])
        let other = try await leader.ok(["actions", "add", "Book the hall", "--session", session])
        let edited = try #require(
            try await leader.json(["actions", "edit", action, "--description", "Share three samples", "--due", "2025-03-14"])
                as? [String: Any])
        #expect(edited["description"] as? String == "Share three samples" && edited["dueDate"] as? String == "2025-03-14", "\(edited)")
        let before = try await leader.ok(["status", "--json"])
        let bad = try await leader.client(["actions", "edit", action, "--description", "Changed", "--due", "2025-02-30"])
        #expect(bad.status == 64 && bad.stderr.contains("--due"), "\(bad)")
        #expect(try await leader.ok(["status", "--json"]) == before, "a refused edit changes nothing")
        try await leader.ok(["actions", "cancel", action])
        try await leader.ok(["actions", "complete", other])
        #expect(try await leader.ok(["actions", "list"]) == "no actions")
        let cancelled = try await leader.ok(["actions", "list", "--status", "cancelled"])
        #expect(
            cancelled.contains("Share three samples") && cancelled.contains("cancelled") && !cancelled.contains("Book the hall"),
            "\(cancelled)")
        let all = try #require(try await leader.json(["actions", "list", "--all"]) as? [[String: Any]])
        #expect(Set(all.compactMap { $0["status"] as? String }) == ["cancelled", "done"], "\(all)")
        let reopened = try #require(try await leader.json(["actions", "reopen", action]) as? [String: Any])
        #expect(reopened["status"] as? String == "open")
        #expect(try await leader.ok(["actions", "list"]).contains("Share three samples"))
        let cleared = try #require(try await leader.json(["actions", "edit", action, "--no-due"]) as? [String: Any])
        #expect(cleared["dueDate"] == nil, "\(cleared)")
        let both = try await leader.client(["actions", "list", "--all", "--status", "open"])
        #expect(both.status == 64, "\(both)")
    }

    @Test("--append adds on a line of its own to a summary and an insight; archive and unarchive; a closed session warns on capture")
    func appendArchiveAndClosedWarning() async throws {
        let scratch = Scratch()
        let (leader, session, insight) = try await Self.setUp(scratch)
        try await leader.ok(["sessions", "edit", session, "--summary", "Agreed the criteria."])
        try await leader.ok(["sessions", "edit", session, "--append", "Samples next week."])
        let record = try #require(try await leader.json(["sessions", "show", session]) as? [String: Any])
        #expect(record["summary"] as? String == "Agreed the criteria.\nSamples next week.", "\(record)")
        let appended = try #require(
            try await leader.json(["insights", "edit", insight, "--append", "and question each other"]) as? [String: Any])
        #expect(appended["text"] as? String == "Pupils explain their thinking\nand question each other", "\(appended)")
        let several = try await leader.client(["insights", "edit", insight, "New text", "--append", "more"])
        #expect(several.status == 64, "\(several)")

        try await leader.ok(["sessions", "archive", session])
        #expect(try await leader.ok(["sessions", "list"]) == "no sessions")
        // Its record and minutes say it is archived.
        #expect(try await leader.ok(["sessions", "show", session]).contains("- **Archived:** "))
        #expect(try await leader.ok(["export", "--session", session]).contains("- **Archived:** "))
        #expect(try await leader.ok(["sessions", "list", "--archived"]).contains("Moderation"))
        try await leader.ok(["sessions", "unarchive", session])
        #expect(try await leader.ok(["sessions", "list"]).contains("Moderation"))

        try await leader.ok(["sessions", "close", session])
        let captured = try await leader.client(["insights", "capture", session, "One more thought"])
        #expect(captured.status == 0, "\(captured)")
        #expect(captured.stderr.contains("warning: session") && captured.stderr.contains("is closed"), "\(captured.stderr)")
        // With --json the warning is part of the one document printed, not a stray line.
        let open = try await leader.client(["insights", "capture", "Moderation", "Nothing to warn about", "--json"])
        #expect(open.status == 0 && open.stderr.isEmpty, "\(open)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(open.stdout.utf8)) as? [String: Any])
        #expect((document["warning"] as? String)?.contains("is closed") == true, "\(document)")
    }

    @Test("--edit without a terminal is refused (64) and changes nothing; on a terminal it opens $EDITOR and writes the change")
    func editorOption() async throws {
        let scratch = Scratch()
        let (leader, session, insight) = try await Self.setUp(scratch)
        let before = try await leader.ok(["status", "--json"])
        let refused = try await leader.client(["insights", "edit", insight, "--edit"])
        #expect(refused.status == 64 && refused.stderr.contains("needs a terminal"), "\(refused)")
        let summary = try await leader.client(["sessions", "edit", session, "--edit"])
        #expect(summary.status == 64 && summary.stderr.contains("needs a terminal"), "\(summary)")
        #expect(try await leader.ok(["status", "--json"]) == before)

        // A terminal from util-linux `script`, and an "editor" that rewrites one word (run as
        // `sh FILE`, a command with an argument as EDITOR often is; executing the file itself
        // races with other tests' forks holding it open for writing: "Text file busy").
        let editor = scratch.path("editor.sh")
        try "#!/bin/sh\nsed -i 's/thinking/reasoning/' \"$1\"\n".write(toFile: editor, atomically: true, encoding: .utf8)
        let command = [try builtBinary("dialogue-client"), "insights", "edit", insight, "--edit", "--replica", leader.replica]
            .map { "'\($0)'" }.joined(separator: " ")
        let result = try await run(
            "/usr/bin/env", ["EDITOR=sh \(editor)", "VISUAL=", "/usr/bin/script", "-qec", command, "/dev/null"], home: leader.home)
        #expect(result.status == 0, "\(result)")
        let listed = try #require(try await leader.json(["insights", "list"]) as? [[String: Any]])
        #expect(listed.first?["text"] as? String == "Pupils explain their reasoning", "\(listed)")
        // Written as a minimal edit: only the differing characters, as `--summary` does.
        let history = try await leader.ok(["history", insight])
        #expect(
            history.contains(#"deleted "think" (5 characters)"#) && history.contains(#"inserted "reason" (6 characters)"#), "\(history)")
    }
}
