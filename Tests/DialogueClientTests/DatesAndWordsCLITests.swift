import DialogueTestSupport
import Foundation
import Testing

/// Issue 14, item 4 (and the output parts of items 2 and 5), through the binary: dates
/// typed as people write them and shown in the local zone (`TZ`) or UTC (`--utc`),
/// vocabulary in any case or by name, "did you mean", Markdown minutes with the evidence
/// source, the prompt answered, local times and short ids.
@Suite("dialogue-client: dates and words")
struct DatesAndWordsCLITests {
    /// Runs the client with `TZ` set (the zone display and input use).
    static func client(_ leader: Leader, _ arguments: [String], tz: String = "Europe/London") async throws -> Run {
        try await run(
            "/usr/bin/env", ["TZ=\(tz)", try builtBinary("dialogue-client")] + arguments + ["--replica", leader.replica], home: leader.home)
    }

    static func ok(
        _ leader: Leader, _ arguments: [String], tz: String = "Europe/London", sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws -> String
    {
        let result = try await client(leader, arguments, tz: tz)
        #expect(
            result.status == 0, "\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func scheduledAt(_ leader: Leader, _ session: String) async throws -> Int64? {
        let record = try #require(try await leader.json(["sessions", "show", session]) as? [String: Any])
        return ((record["session"] as? [String: Any])?["scheduledAt"] as? NSNumber)?.int64Value
    }

    static func setUp(_ scratch: Scratch) async throws -> Leader {
        let leader = Leader("a", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        return leader
    }

    @Test(
        "regression: '2025-03-14 09:30', '14/06/2025 09:30' and '2025-03-14T09:30' were refused; now read in the local zone (GMT, BST) or UTC with --utc"
    )
    func localInput() async throws {
        let scratch = Scratch()
        let leader = try await Self.setUp(scratch)
        let winter = try await Self.ok(leader, ["sessions", "create", "--title", "Winter", "--at", "2025-03-14 09:30"])
        #expect(try await Self.scheduledAt(leader, winter) == 1_741_944_600_000)  // 09:30 UTC (GMT)
        let summer = try await Self.ok(leader, ["sessions", "create", "--title", "Summer", "--at", "14/06/2025 09:30"])
        #expect(try await Self.scheduledAt(leader, summer) == 1_749_889_800_000)  // 08:30 UTC (BST)
        let iso = try await Self.ok(leader, ["sessions", "create", "--title", "Iso", "--at", "2025-06-14T09:30"])
        #expect(try await Self.scheduledAt(leader, iso) == 1_749_889_800_000)
        let utc = try await Self.ok(leader, ["sessions", "create", "--title", "Utc", "--at", "2025-06-14 09:30", "--utc"])
        #expect(try await Self.scheduledAt(leader, utc) == 1_749_893_400_000)
        let day = try await Self.ok(leader, ["sessions", "create", "--title", "Day", "--at", "2025-3-1"])
        #expect(try await Self.scheduledAt(leader, day) == 1_740_787_200_000)  // local midnight, GMT
        // A local day, as a range: 14 June in London is 13 June 23:00 to 14 June 23:00 UTC.
        let june = try await Self.ok(leader, ["sessions", "list", "--from", "14/06/2025", "--to", "2025-06-14"])
        #expect(june.contains("Summer") && june.contains("Iso") && june.contains("Utc") && !june.contains("Winter"), "\(june)")
    }

    @Test("regression: times were shown only in UTC; now in the local zone with its offset, or UTC with --utc")
    func localDisplay() async throws {
        let scratch = Scratch()
        let leader = try await Self.setUp(scratch)
        let session = try await leader.ok(["sessions", "create", "--title", "Summer", "--at", "2025-06-14T08:30:00Z"])
        let shown = try await Self.ok(leader, ["sessions", "show", session])
        #expect(shown.contains("- **When:** 2025-06-14 09:30 +01:00"), "\(shown)")
        let listed = try await Self.ok(leader, ["sessions", "list"])
        #expect(listed.contains("2025-06-14 09:30 +01:00"), "\(listed)")
        let utc = try await Self.ok(leader, ["sessions", "show", session, "--utc"])
        #expect(utc.contains("- **When:** 2025-06-14 08:30 UTC"), "\(utc)")
        let tokyo = try await Self.ok(leader, ["sessions", "list"], tz: "Asia/Tokyo")
        #expect(tokyo.contains("2025-06-14 17:30 +09:00"), "\(tokyo)")
        // JSON keeps the stored instant whatever the zone.
        #expect(try await Self.scheduledAt(leader, session) == 1_749_889_800_000)
    }

    @Test("an impossible or month-first date is refused with examples (64) and changes nothing")
    func refusedDates() async throws {
        let scratch = Scratch()
        let leader = try await Self.setUp(scratch)
        let session = try await leader.ok(["sessions", "create", "--title", "Visit"])
        for (arguments, reason) in [
            (["sessions", "create", "--title", "Bad", "--at", "31/02/2025"], "there is no 2025-02-31"),
            (["sessions", "edit", session, "--at", "03/14/2025"], "the day comes first"),
            (["actions", "add", "Share", "--session", session, "--due", "2025-03-14 09:30"], "without a time"),
            (["sessions", "list", "--from", "next week"], "not a date"),
        ] {
            let result = try await Self.client(leader, arguments)
            #expect(result.status == 64, "\(arguments): \(result)")
            #expect(result.stderr.contains(reason) && result.stderr.contains("14/03/2025"), "\(arguments): \(result.stderr)")
        }
        let sessions = try #require(try await leader.json(["sessions", "list"]) as? [Any])
        #expect(sessions.count == 1)
        #expect(try await Self.scheduledAt(leader, session) == nil)
    }

    @Test("regression: --due 28/03/2025 was refused; now day-first dates, today and tomorrow are due dates")
    func dueDates() async throws {
        let scratch = Scratch()
        let leader = try await Self.setUp(scratch)
        let session = try await leader.ok(["sessions", "create", "--title", "Visit"])
        try await Self.ok(leader, ["actions", "add", "Share the rubric", "--session", session, "--due", "28/03/2025"])
        try await Self.ok(leader, ["actions", "add", "Book the hall", "--session", session, "--due", "2025-4-1"])
        let actions = try #require(try await leader.json(["actions", "list"]) as? [[String: Any]])
        #expect(Set(actions.compactMap { $0["dueDate"] as? String }) == ["2025-03-28", "2025-04-01"], "\(actions)")
        let overdue = try await Self.ok(leader, ["actions", "list", "--overdue", "--as-of", "30/03/2025"])
        #expect(overdue.contains("Share the rubric") && !overdue.contains("Book the hall"), "\(overdue)")
    }

    @Test("regression: --hallmark Synergy was refused; now terms in any case or by name; a typo gets 'did you mean' (64)")
    func vocabulary() async throws {
        let scratch = Scratch()
        let leader = try await Self.setUp(scratch)
        let session = try await leader.ok(["sessions", "create", "--title", "Visit", "--status", "Held", "--strategy", "DIALOGUE"])
        let insight = try await Self.ok(
            leader,
            [
                "insights", "capture", session, "Pupils explain feedback", "--hallmark", "Synergy", "--hallmark", "Shared responsibility",
                "--kind", "Effective practice", "--influence", "Reciprocal",
            ])
        try await Self.ok(leader, ["insights", "tag", insight, "LEADERSHIP CAPACITY"])
        let record = try #require(try await leader.json(["sessions", "show", session]) as? [String: Any])
        let insights = try #require(record["insights"] as? [[String: Any]])
        #expect(Set(insights.first?["hallmarks"] as? [String] ?? []) == ["synergy", "shared-responsibility", "leadership-capacity"])
        #expect(insights.first?["kind"] as? String == "effective-practice")
        let typo = try await Self.client(leader, ["insights", "tag", insight, "Synergi"])
        #expect(typo.status == 64 && typo.stderr.contains("Did you mean 'synergy'?"), "\(typo)")
        let status = try await Self.client(leader, ["sessions", "list", "--status", "hled"])
        #expect(status.status == 64 && status.stderr.contains("Did you mean 'held'?"), "\(status)")
    }

    @Test("'did you mean' for subcommands (added) and options (the parser's), exit 64")
    func subcommandsAndOptions() async throws {
        let scratch = Scratch()
        let leader = try await Self.setUp(scratch)
        for (arguments, hint) in [
            (["sesions", "list"], "Did you mean 'sessions'?"), (["sessions", "lst"], "Did you mean 'list'?"),
            (["actions", "compelte", "x"], "Did you mean 'complete'?"),
            (["sessions", "list", "--statu", "held"], "Did you mean '--status'?"),
        ] {
            let result = try await Self.client(leader, arguments)
            #expect(result.status == 64 && result.stderr.contains(hint), "\(arguments): \(result)")
        }
        let far = try await Self.client(leader, ["xyzzy"])
        #expect(far.status == 64 && !far.stderr.contains("Did you mean"), "\(far)")
    }

    @Test(
        "regression: Markdown omitted the evidence source and the prompt answered, and showed no insight or action ids; now both, local time, short ids"
    )
    func markdown() async throws {
        let scratch = Scratch()
        let leader = try await Self.setUp(scratch)
        let session = try await leader.ok(["sessions", "create", "--title", "Visit", "--at", "2025-06-14T08:30:00Z"])
        let prompt = try await leader.ok(["prompts", "add", "What moves pupils to read for pleasure?"])
        let insight = try await leader.ok([
            "insights", "capture", session, "Pupils choose books", "--prompt", prompt, "--evidence", "Year 5 pupil interviews",
        ])
        let action = try await leader.ok(["actions", "add", "Buy books", "--session", session, "--due", "2025-06-20"])
        let minutes = try await Self.ok(leader, ["export", "--session", session])
        #expect(minutes.contains("- **When:** 2025-06-14 09:30 +01:00"), "\(minutes)")
        #expect(minutes.contains("- **Session id:** `\(session.prefix(8))`"), "\(minutes)")
        #expect(
            minutes.contains("- `\(insight.prefix(8))` Pupils choose books _(by an unverified device ")
                && minutes.contains(")_\n  - Answers: What moves pupils to read for pleasure?\n  - Evidence: Year 5 pupil interviews"),
            "\(minutes)")
        #expect(minutes.contains("- [ ] `\(action.prefix(8))` Buy books _(due 2025-06-20)_"), "\(minutes)")
        let history = try await Self.ok(leader, ["history", insight], tz: "Asia/Tokyo")
        #expect(history.split(separator: "\n").dropFirst(2).allSatisfy { $0.contains(" +09:00  ") }, "local times: \(history)")
        #expect(history.hasPrefix("insight \(insight.prefix(8)) in "), "\(history)")
    }
}
