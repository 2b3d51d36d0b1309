import DialogueModel
import DialogueSync
import Foundation

/// Session records as Markdown minutes and CSV rows.
enum Render {
    static func markdown(_ record: SessionRecord, replica: Replica) async -> String {
        let session = record.session
        let space = session.space
        var lines = ["# \(session.title ?? "(untitled session)")", ""]
        lines.append("- **When:** \(Output.time(session.scheduledAt))")
        lines.append("- **Status:** \(session.status?.displayName ?? "-")")
        lines.append("- **Host school:** \(await replica.name(of: session.hostSchool, in: space))")
        lines.append("- **Facilitator:** \(await replica.name(of: session.facilitator, in: space))")
        if let strategy = session.strategy { lines.append("- **Strategy:** \(strategy.displayName)") }
        if let focus = session.focus { lines.append("- **Focus:** \(focus)") }
        var participants: [String] = []
        for member in record.participants { participants.append(await replica.name(of: member, in: space)) }
        lines.append("- **Participants:** \(participants.isEmpty ? "-" : participants.joined(separator: ", "))")
        lines.append("- **Session id:** `\(session.id)`")
        if !record.agenda.isEmpty {
            lines += ["", "## Agenda", ""]
            for (index, entry) in record.agenda.enumerated() {
                lines.append("\(index + 1). \(entry.promptText ?? "(prompt \(entry.promptID))")")
            }
        }
        if !record.summary.isEmpty { lines += ["", "## Summary", "", record.summary] }
        if !record.insights.isEmpty {
            lines += ["", "## Insights", ""]
            for insight in record.insights {
                var meta: [String] = []
                if insight.author != nil { meta.append("by \(await replica.name(of: insight.author, in: space))") }
                if let kind = insight.kind { meta.append(kind.displayName.lowercased()) }
                if !insight.hallmarks.isEmpty {
                    meta.append("hallmarks: " + insight.hallmarks.map { Hallmark(rawValue: $0)?.displayName ?? $0 }.joined(separator: ", "))
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
                if action.owner != nil { meta.append("owner \(await replica.name(of: action.owner, in: space))") }
                if let due = action.dueDate { meta.append("due \(due)") }
                if let status = action.status, status != .open, status != .done { meta.append(status.displayName.lowercased()) }
                lines.append("- \(box) \(action.description ?? "")" + (meta.isEmpty ? "" : " _(\(meta.joined(separator: ", ")))_"))
            }
        }
        return lines.joined(separator: "\n")
    }

    static let csvHeader = "record,id,session,text,person,kind_or_status,hallmarks,due_date"

    /// One row per insight and per action.
    static func csvRows(_ record: SessionRecord) -> [String] {
        var rows: [String] = []
        for insight in record.insights {
            rows.append(
                csv([
                    "insight", insight.id.description, record.id.description, insight.text, insight.author?.description ?? "",
                    insight.kind?.rawValue ?? "", insight.hallmarks.joined(separator: ";"), "",
                ]))
        }
        for action in record.actions {
            rows.append(
                csv([
                    "action", action.id.description, record.id.description, action.description ?? "", action.owner?.description ?? "",
                    action.status?.rawValue ?? "", "", action.dueDate ?? "",
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
