import ArgumentParser
import DialogueModel
import DialogueServer
import Foundation
import Logging

/// `dialogue-server admin retention …`: per-space retention policies and their application
/// (issue 13 item 2; the work is ``RetentionRunner`` in the library, docs/PRIVACY.md "Retention").
extension Admin {
    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set, show and apply per-space retention policies (records erased when their period ends).",
            subcommands: [Set.self, Show.self, Apply.self])

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Set a space's retention policy (periods in whole years; --clear removes it).",
                discussion: """
                    No space has a policy until one is set. Suggested periods and the IRMS Toolkit for Schools record
                    series they follow are in docs/PRIVACY.md; the school's data protection officer decides.
                    """)
            @Option(help: "The space (a school's private space or a partnership's shared space: see `admin list`).") var space: UUID
            @Option(help: "Closed sessions go this many years after their date.") var closedSessionsYears: Int?
            @Option(help: "Insights and actions go this many years after their session's date.") var insightsActionsYears: Int?
            @Flag(help: "Remove the space's policy.") var clear = false
            @OptionGroup var common: Common

            func run() async throws {
                let policy =
                    clear
                    ? RetentionPolicy()
                    : RetentionPolicy(closedSessionsYears: closedSessionsYears, insightsAndActionsYears: insightsActionsYears)
                if !clear, policy.isEmpty { throw ValidationError("give --closed-sessions-years, --insights-actions-years or --clear") }
                if clear, closedSessionsYears != nil || insightsActionsYears != nil {
                    throw ValidationError("--clear takes no periods")
                }
                if let problem = policy.problem { throw ValidationError(problem) }
                let space = SpaceID(space)
                let record = RetentionPolicyRecord(space: space, policy: policy, setAt: Int64(Date().timeIntervalSince1970 * 1000))
                try await Admin.withStore(common) { store in
                    guard try await Admin.spaceExists(space, store: store) else {
                        throw ValidationError("no space \(space) on this server (see `admin list`)")
                    }
                    try await store.setRetentionPolicy(record)
                }
                try Admin.printResult(
                    common.json, record,
                    clear ? "retention policy of \(space) removed" : "retention policy of \(space): \(Admin.describe(policy))")
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show the retention policies set.")
            @OptionGroup var common: Common

            func run() async throws {
                let records = try await Admin.withStore(common) { try await $0.retentionPolicies() }
                let text =
                    records.isEmpty
                    ? "no retention policy is set (records are kept until someone erases them)"
                    : records.map { "\($0.space)  \(Admin.describe($0.policy))" }.joined(separator: "\n")
                try Admin.printResult(common.json, records, text)
            }
        }

        struct Apply: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Erase what the policies say must go (--dry-run lists it and changes nothing).",
                discussion: """
                    The records due are erased by erasure changes the server's own device writes and signs
                    ("Retention schedule (server)"); they reach every replica at its next sync, like any erasure.
                    """)
            @Flag(help: "List what would go; change nothing.") var dryRun = false
            @Option(help: "Only this space.") var space: UUID?
            @Option(help: "Apply as of this date (YYYY-MM-DD, UTC) instead of now, e.g. to preview the end of term.") var asOf: String?
            @OptionGroup var common: Common

            func run() async throws {
                var now = Int64(Date().timeIntervalSince1970 * 1000)
                if let asOf {
                    guard let date = Admin.utcDay(asOf) else { throw ValidationError("--as-of \(asOf) is not a date like 2026-07-31") }
                    now = date
                }
                var logger = Logger(label: "dialogue.admin.retention")
                logger.logLevel = .warning
                let report = try await Admin.withStore(common) { store in
                    try await RetentionRunner(service: SyncService(store: store, logger: logger))
                        .run(asOf: now, dryRun: dryRun, only: space.map(SpaceID.init))
                }
                try Admin.printResult(common.json, report, Admin.describe(report))
            }
        }
    }

    static func spaceExists(_ space: SpaceID, store: any SyncStore) async throws -> Bool {
        let shared = try await store.partnerships().map(\.sharedSpace)
        let schools = try await store.schools().map(\.privateSpace)
        return shared.contains(space) || schools.contains(space)
    }

    static func describe(_ policy: RetentionPolicy) -> String {
        var parts: [String] = []
        if let years = policy.closedSessionsYears { parts.append("closed sessions \(years) years after their date") }
        if let years = policy.insightsAndActionsYears { parts.append("insights and actions \(years) years after their session") }
        return parts.isEmpty ? "none" : parts.joined(separator: "; ")
    }

    static func describe(_ report: RetentionRunner.Report) -> String {
        guard !report.spaces.isEmpty else { return "no retention policy is set: nothing to do" }
        var lines: [String] = []
        for space in report.spaces {
            let verb = report.dryRun ? "would erase" : "erased"
            lines.append("\(space.space) (\(describe(space.policy))): \(verb) \(report.dryRun ? space.due.count : space.erased) records")
            for record in space.due {
                let date = day(record.sessionDate)
                let title = record.sessionTitle.map { " “\($0)”" } ?? ""
                lines.append("  \(record.kind) \(record.entity)  session\(title) of \(date), due \(day(record.dueAt))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Midnight UTC of `YYYY-MM-DD`, in milliseconds.
    static func utcDay(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        guard let date = formatter.date(from: text) else { return nil }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    static func day(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
