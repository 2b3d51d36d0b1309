import DialogueModel
import Foundation

/// Session minutes as Markdown.
///
/// Single-line values (titles, names, due dates) are kept on one line with
/// ``ExportText/line(_:)`` unless `exact`, so a newline in a partner's title cannot forge
/// a heading or an action of its own. Multi-line texts (the summary, insights) are left as
/// written: whoever shows the minutes escapes the whole text
/// (``ExportText/escape(_:multiline:)``) as its medium needs.
public enum SessionMinutes {
    /// How a field holding a value its rule refuses is shown (see `invalidFields` in docs/CLI.md).
    public static let invalid = "(invalid value)"

    /// What separates the minutes of several sessions.
    public static let separator = "\n\n---\n\n"

    /// `text`, or ``invalid`` when the field holds an invalid value.
    public static func shown(_ text: String, _ isInvalid: Bool) -> String { isInvalid ? invalid : text }
}

extension Replica {
    /// A session's minutes as Markdown: its registers, participants (by name), agenda,
    /// summary, insights in capture order (each with its short id, author, kind, hallmarks,
    /// the prompt it answers and its evidence source) and actions (with short ids, owners and
    /// due dates). Short ids (``shortIDs(_:minimum:)``) can be typed back to the command line.
    ///
    /// - Parameters:
    ///   - record: the session, as ``Replica/session(_:)`` reads it.
    ///   - exact: leave one-line values as stored (for a caller that escapes or
    ///     embeds the text itself), instead of keeping each on one line.
    ///   - dates: the zone the session's time is shown in (default: the user's).
    public func minutes(of record: SessionRecord, exact: Bool = false, dates: DateText = .local) throws(ReplicaError) -> String {
        let names = try authorNames()
        let record = ordered(record, names: names)
        let authors = try insightAuthors(of: [record], names: names)
        let session = record.session
        let space = session.space
        let invalid = SessionMinutes.invalid
        func line(_ text: String) -> String { exact ? text : ExportText.line(text) }
        func shown(_ text: String, _ isInvalid: Bool) -> String { SessionMinutes.shown(text, isInvalid) }
        func name(_ id: EntityID?) -> String { displayName(of: id, in: space, names: names) }
        let short = shortIDs([session.id] + record.insights.map(\.id) + record.actions.map(\.id))
        func shortID(_ id: EntityID) -> String { "`\(short[id] ?? id.description)`" }
        func promptText(_ id: EntityID) -> String {
            let text = self.promptText(id, in: space) ?? PromptLibrary.starterPrompt(id)?.text
            return line(text ?? "(prompt \(short[id] ?? id.description))")
        }
        func fieldNames(_ fields: [String], _ kind: EntityKind) -> String {
            fields.map { "\(kind.field(named: $0)?.displayName ?? $0) \(invalid)" }.joined(separator: ", ")
        }
        typealias F = DialogueSession.Field
        let title = session.isInvalid(F.title) ? invalid : line(session.title ?? "(untitled session)")
        var lines = ["# \(title)", ""]
        lines.append("- **When:** \(shown(dates.time(session.scheduledAt), session.isInvalid(F.scheduledAt)))")
        lines.append("- **Status:** \(shown(session.status?.displayName ?? "-", session.isInvalid(F.status)))")
        // An archived session is out of the everyday list: its minutes say so.
        if let archivedAt = session.archivedAt { lines.append("- **Archived:** \(dates.time(archivedAt))") }
        lines.append("- **Host school:** \(shown(line(name(session.hostSchool)), session.isInvalid(F.hostSchool)))")
        lines.append("- **Facilitator:** \(shown(line(name(session.facilitator)), session.isInvalid(F.facilitator)))")
        if let strategy = session.strategy { lines.append("- **Strategy:** \(strategy.displayName)") }
        if session.isInvalid(F.strategy) { lines.append("- **Strategy:** \(invalid)") }
        if let focus = session.focus { lines.append("- **Focus:** \(line(focus))") }
        if session.isInvalid(F.focus) { lines.append("- **Focus:** \(invalid)") }
        let participants = record.participants.map { line(name($0)) }
        lines.append("- **Participants:** \(participants.isEmpty ? "-" : participants.joined(separator: ", "))")
        lines.append("- **Session id:** \(shortID(session.id))")
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
                case .disputed(let claimants):
                    meta.append("authorship disputed: \(line(claimants.map(\.description).joined(separator: ", ")))")
                case nil: break
                }
                if let kind = insight.kind { meta.append(kind.displayName.lowercased()) }
                if let fields = insight.invalidFields { meta.append(fieldNames(fields, .insight)) }
                if let influence = insight.influence { meta.append("\(influence.displayName.lowercased()) influence") }
                if !insight.hallmarks.isEmpty {
                    meta.append(
                        "hallmarks: " + insight.hallmarks.map { line(Hallmark(rawValue: $0)?.displayName ?? $0) }.joined(separator: ", "))
                }
                let text = insight.text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n  ")
                lines.append("- \(shortID(insight.id)) \(text)" + (meta.isEmpty ? "" : " _(\(meta.joined(separator: "; ")))_"))
                if let prompt = insight.prompt { lines.append("  - Answers: \(promptText(prompt))") }
                if let evidence = insight.evidenceSource, !evidence.isEmpty { lines.append("  - Evidence: \(line(evidence))") }
            }
        }
        if !record.actions.isEmpty {
            lines += ["", "## Actions", ""]
            for action in record.actions {
                let box = action.status == .done ? "[x]" : "[ ]"
                var meta: [String] = []
                if action.owner != nil { meta.append("owner \(line(name(action.owner)))") }
                if let due = action.dueDate { meta.append("due \(line(due))") }
                if let status = action.status, status != .open, status != .done { meta.append(status.displayName.lowercased()) }
                if let fields = action.invalidFields { meta.append(fieldNames(fields, .action)) }
                lines.append(
                    "- \(box) \(shortID(action.id)) \(line(action.description ?? ""))"
                        + (meta.isEmpty ? "" : " _(\(meta.joined(separator: ", ")))_"))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The minutes of several sessions, separated by a rule (``SessionMinutes/separator``).
    public func minutes(of records: [SessionRecord], exact: Bool = false, dates: DateText = .local) throws(ReplicaError) -> String {
        var parts: [String] = []
        for record in records { parts.append(try minutes(of: record, exact: exact, dates: dates)) }
        return parts.joined(separator: SessionMinutes.separator)
    }
}
