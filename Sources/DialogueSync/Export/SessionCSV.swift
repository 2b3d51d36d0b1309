import DialogueModel
import Foundation

/// Sessions as CSV (RFC 4180 quoting): one row per insight and per action.
///
/// An insight's person is its author (the member certified for the device that created it;
/// an unverified device has no id, and its name column says so); an action's is its owner.
public enum SessionCSV {
    /// The header row.
    public static let header = "record,id,session,text,person,kind_or_status,hallmarks,due_date,person_name,person_school"

    /// The rows of one session's insights, then its actions. `owners` names each owner id.
    public static func rows(_ record: SessionRecord, authors: [EntityID: EntityAuthorship], owners: (EntityID) -> PersonName) -> [String] {
        let invalid = SessionMinutes.invalid
        var rows: [String] = []
        for insight in record.insights {
            let author = authors[insight.id]?.author
            let disputed = authors[insight.id].flatMap { $0.author == nil ? $0.description : nil }
            rows.append(
                line([
                    "insight", insight.id.description, record.id.description, insight.text, author?.member?.id.description ?? "",
                    insight.isInvalid(Insight.Field.kind) ? invalid : insight.kind?.rawValue ?? "",
                    insight.hallmarks.joined(separator: ";"), "", disputed ?? author?.member?.name ?? author?.description ?? "",
                    author?.member?.schoolName ?? "",
                ]))
        }
        for action in record.actions {
            let owner = action.owner.map(owners)
            let ownerInvalid = action.isInvalid(Action.Field.owner)
            rows.append(
                line([
                    "action", action.id.description, record.id.description,
                    action.isInvalid(Action.Field.description) ? invalid : action.description ?? "",
                    ownerInvalid ? invalid : action.owner?.description ?? "",
                    action.isInvalid(Action.Field.status) ? invalid : action.status?.rawValue ?? "", "",
                    action.isInvalid(Action.Field.dueDate) ? invalid : action.dueDate ?? "",
                    ownerInvalid ? "" : owner?.name ?? "", ownerInvalid ? "" : owner?.school ?? "",
                ]))
        }
        return rows
    }

    /// One CSV line: a field holding a comma, a quote or a line break is quoted, its quotes doubled.
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}

extension Replica {
    /// `records` as CSV: the header, then each session's insight rows (in capture order,
    /// ``ordered(_:names:)``) and action rows (lines joined by "\n", no final newline). Owners are
    /// named as ``person(_:in:names:)`` names them.
    public func csv(of records: [SessionRecord]) throws(ReplicaError) -> String {
        let names = try authorNames()
        let records = records.map { ordered($0, names: names) }
        let authors = try insightAuthors(of: records, names: names)
        var rows = [SessionCSV.header]
        for record in records {
            var owners: [EntityID: PersonName] = [:]
            for owner in record.actions.compactMap(\.owner) { owners[owner] = person(owner, in: record.session.space, names: names) }
            rows += SessionCSV.rows(record, authors: authors, owners: { owners[$0] ?? PersonName(name: $0.description, school: "") })
        }
        return rows.joined(separator: "\n")
    }
}
