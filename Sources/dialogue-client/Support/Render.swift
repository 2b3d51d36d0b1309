import DialogueModel
import DialogueSync
import Foundation

/// Session records as Markdown minutes and CSV rows.
///
/// Both are human-readable output: the caller escapes control characters in the whole
/// text (``Terminal/escape(_:multiline:)``); single-line values are escaped here with
/// ``Terminal/line(_:)`` as well, so a newline in a partner's title cannot forge a heading
/// or an action of its own.
enum Render {
    /// Who wrote each insight of `records`: the member certified for the device that created
    /// it (docs/TRUST.md, "Authorship"), an unverified device, or the claimants when its
    /// authorship is disputed; never what a change claims.
    static func insightAuthors(_ records: [SessionRecord], replica: Replica) async throws -> [EntityID: EntityAuthorship] {
        let names = try replica.authorNames()
        var authors: [EntityID: EntityAuthorship] = [:]
        for insight in records.flatMap(\.insights) {
            authors[insight.id] = await replica.authorship(ofEntity: insight.id, names: names)
        }
        return authors
    }

    /// - Parameter exact: leave one-line values as stored (for the `content` of `--json`).
    static func markdown(_ record: SessionRecord, replica: Replica, exact: Bool = false) async throws -> String {
        let authors = try await insightAuthors([record], replica: replica)
        let session = record.session
        let space = session.space
        func line(_ text: String) -> String { exact ? text : Terminal.line(text) }
        typealias F = DialogueSession.Field
        let title = session.isInvalid(F.title) ? invalid : line(session.title ?? "(untitled session)")
        var lines = ["# \(title)", ""]
        lines.append("- **When:** \(shown(Output.time(session.scheduledAt), session.isInvalid(F.scheduledAt)))")
        lines.append("- **Status:** \(shown(session.status?.displayName ?? "-", session.isInvalid(F.status)))")
        lines.append(
            "- **Host school:** \(shown(line(await replica.name(of: session.hostSchool, in: space)), session.isInvalid(F.hostSchool)))")
        lines.append(
            "- **Facilitator:** \(shown(line(await replica.name(of: session.facilitator, in: space)), session.isInvalid(F.facilitator)))")
        if let strategy = session.strategy { lines.append("- **Strategy:** \(strategy.displayName)") }
        if session.isInvalid(F.strategy) { lines.append("- **Strategy:** \(invalid)") }
        if let focus = session.focus { lines.append("- **Focus:** \(line(focus))") }
        if session.isInvalid(F.focus) { lines.append("- **Focus:** \(invalid)") }
        var participants: [String] = []
        for member in record.participants { participants.append(line(await replica.name(of: member, in: space))) }
        lines.append("- **Participants:** \(participants.isEmpty ? "-" : participants.joined(separator: ", "))")
        lines.append("- **Session id:** `\(session.id)`")
        if !record.agenda.isEmpty {
            lines += ["", "## Agenda", ""]
            for (index, entry) in record.agenda.enumerated() {
                lines.append("\(index + 1). \(line(entry.promptText ?? "(prompt \(entry.promptID))"))")
            }
        }
        if !record.summary.isEmpty { lines += ["", "## Summary", "", record.summary] }
        if !record.insights.isEmpty {
            lines += ["", "## Insights", ""]
            for insight in record.insights {
                var meta: [String] = []
                switch authors[insight.id] {
                case .by(let author): meta.append("by \(line(author.description))")
                case .disputed(let claimants): meta.append("authorship disputed: \(line(claimants.map(\.description).joined(separator: ", ")))")
                case nil: break
                }
                if let kind = insight.kind { meta.append(kind.displayName.lowercased()) }
                if let fields = insight.invalidFields { meta.append(fields.map { "\($0) \(invalid)" }.joined(separator: ", ")) }
                if !insight.hallmarks.isEmpty {
                    meta.append(
                        "hallmarks: " + insight.hallmarks.map { line(Hallmark(rawValue: $0)?.displayName ?? $0) }.joined(separator: ", "))
                }
                let text = insight.text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
                lines.append("- \(text)" + (meta.isEmpty ? "" : " _(\(meta.joined(separator: "; ")))_"))
            }
        }
        if !record.actions.isEmpty {
            lines += ["", "## Actions", ""]
            for action in record.actions {
                let box = action.status == .done ? "[x]" : "[ ]"
                var meta: [String] = []
                if action.owner != nil { meta.append("owner \(line(await replica.name(of: action.owner, in: space)))") }
                if let due = action.dueDate { meta.append("due \(line(due))") }
                if let status = action.status, status != .open, status != .done { meta.append(status.displayName.lowercased()) }
                if let fields = action.invalidFields { meta.append(fields.map { "\($0) \(invalid)" }.joined(separator: ", ")) }
                lines.append("- \(box) \(line(action.description ?? ""))" + (meta.isEmpty ? "" : " _(\(meta.joined(separator: ", ")))_"))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// How a field holding a value its rule refuses is shown (see `invalidFields` in docs/CLI.md).
    static let invalid = "(invalid value)"

    /// `text`, or ``invalid`` when the field holds an invalid value.
    static func shown(_ text: String, _ isInvalid: Bool) -> String { isInvalid ? invalid : text }

    static let csvHeader = "record,id,session,text,person,kind_or_status,hallmarks,due_date,person_name,person_school"

    /// One row per insight and per action. An insight's person is its author (the member
    /// certified for the device that created it: `authors`; an unverified device has no id,
    /// and its name column says so); an action's is its owner (named by `owners`).
    static func csvRows(
        _ record: SessionRecord, authors: [EntityID: EntityAuthorship], owners: (EntityID) -> (name: String, school: String)
    ) -> [String] {
        var rows: [String] = []
        for insight in record.insights {
            let author = authors[insight.id]?.author
            let disputed = authors[insight.id].flatMap { $0.author == nil ? $0.description : nil }
            rows.append(
                csv([
                    "insight", insight.id.description, record.id.description, insight.text, author?.member?.id.description ?? "",
                    insight.isInvalid(DialogueModel.Insight.Field.kind) ? invalid : insight.kind?.rawValue ?? "",
                    insight.hallmarks.joined(separator: ";"), "", disputed ?? author?.member?.name ?? author?.description ?? "",
                    author?.member?.schoolName ?? "",
                ]))
        }
        for action in record.actions {
            let owner = action.owner.map(owners)
            let ownerInvalid = action.isInvalid(DialogueModel.Action.Field.owner)
            rows.append(
                csv([
                    "action", action.id.description, record.id.description,
                    action.isInvalid(DialogueModel.Action.Field.description) ? invalid : action.description ?? "",
                    ownerInvalid ? invalid : action.owner?.description ?? "",
                    action.isInvalid(DialogueModel.Action.Field.status) ? invalid : action.status?.rawValue ?? "", "",
                    action.isInvalid(DialogueModel.Action.Field.dueDate) ? invalid : action.dueDate ?? "",
                    ownerInvalid ? "" : owner?.name ?? "", ownerInvalid ? "" : owner?.school ?? "",
                ]))
        }
        return rows
    }

    static func csv(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}
