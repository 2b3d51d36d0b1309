import DialogueModel
import Foundation

extension SubjectAccessReport {
    /// A space section's heading by the space's kind.
    static func heading(ofKind kind: String) -> String {
        switch kind {
        case "shared": "Partnership space"
        case "personal": "Their personal space"
        default: "School space"
        }
    }

    /// The report as a readable Markdown document: what could not be seen first, then the
    /// member's tokens and devices, then a section per space (their record, where they are
    /// named, what they wrote with each edit). Names are shown where known, with ids beside
    /// them so the school can find each thing.
    public func markdown() -> String {
        var out = MarkdownWriter(names: Dictionary(references.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first }))
        out.line("# Subject access report: \(out.text(subject.name))")
        out.line()
        out.line(
            "Member `\(subject.id)`, \(out.text(subject.schoolName ?? "an unknown school")) (`\(subject.school)`), "
                + "access: \(subject.access.rawValue). Gathered \(Self.time(generatedAt)) by dialogue-server "
                + "(report format \(formatVersion)) from every space this server holds.")
        out.line()
        out.line("## What this report could not see")
        out.line()
        for gap in cannotSee { out.line("- \(out.text(gap.detail)) (`\(gap.code)`)") }
        out.line()

        out.line("## Tokens")
        out.line()
        if tokens.isEmpty {
            out.line("No token was issued to them.")
        } else {
            out.line("| Label | Token id | Issued | Revoked |")
            out.line("|---|---|---|---|")
            for token in tokens {
                out.line(
                    "| \(out.cell(token.label)) | `\(token.id)` | \(Self.time(token.issuedAt)) | "
                        + "\(token.revokedAt.map(Self.time) ?? "no") |")
            }
        }
        out.line()

        out.line("## Devices")
        out.line()
        if devices.isEmpty {
            out.line("No device is registered for them.")
        } else {
            out.line("| Device | Key fingerprint | Token | Registered | Revoked | Last change held |")
            out.line("|---|---|---|---|---|---|")
            for device in devices {
                let last = device.lastCounters.map { "\(out.cell(spaceName($0.space))) up to #\($0.counter)" }
                out.line(
                    "| `\(device.replica)` | `\(device.fingerprint)` | \(out.cell(device.tokenLabel)) (`\(device.token)`) | "
                        + "\(Self.time(device.registeredAt)) | \(device.revokedAt.map(Self.time) ?? "no") | "
                        + "\(last.isEmpty ? "never synced" : last.joined(separator: "; ")) |")
            }
        }
        out.line()

        for space in spaces { write(space, to: &out) }
        return out.result
    }

    private func write(_ space: SpaceSection, to out: inout MarkdownWriter) {
        out.line("## \(Self.heading(ofKind: space.kind)): \(out.text(space.name))")
        out.line()
        out.line(
            "Space `\(space.space)`, owned by `\(space.owner)`. The server holds \(space.changesHeld) changes of it; "
                + "\(space.changesByMember) came from their devices.")
        out.line()
        out.line("### Their member record")
        out.line()
        if let record = space.memberRecord {
            out.line("- Display name: \(out.text(record.displayName ?? "(none)"))")
            out.line("- Role: \(record.role.flatMap { MemberRole(rawValue: $0)?.displayName } ?? record.role ?? "(none)")")
            out.line("- Home school: \(record.homeSchool.map { out.named($0) } ?? "(none)")")
            if record.deleted { out.line("- (deleted: hidden, its content still held)") }
        } else {
            out.line("None in this space.")
        }
        out.line()
        out.line("### Where they are named")
        out.line()
        if space.named.isEmpty { out.line("Nowhere in this space.") }
        for naming in space.named {
            out.line(
                "- \(Self.roleName(naming.role, field: naming.field)) of \(Self.kindName(naming.kind)) "
                    + "\(naming.title.map { "“\(out.text($0))”" } ?? "(untitled)") (`\(naming.entity)`)"
                    + (naming.deleted ? " (deleted)" : ""))
        }
        out.line()
        out.line("### What they wrote")
        out.line()
        if space.wrote.isEmpty { out.line("Nothing in this space.") }
        for entity in space.wrote { write(entity, to: &out) }
        if !space.unattributable.isEmpty {
            out.line("### Changes nobody can be attributed")
            out.line()
            out.line(
                "Written before signing by devices nobody registered: the server cannot tell whose they are (some may be "
                    + "this person's). Their content is not shown.")
            out.line()
            out.line("| Device | Changes | Entities | First | Last |")
            out.line("|---|---|---|---|---|")
            for device in space.unattributable {
                out.line(
                    "| `\(device.replica)` | \(device.changes) | \(device.entities) | \(Self.time(device.firstAt)) | "
                        + "\(Self.time(device.lastAt)) |")
            }
            out.line()
        }
    }

    private func write(_ entity: WrittenEntity, to out: inout MarkdownWriter) {
        let kind = entity.kind.map(Self.kindName) ?? "entity (its creation is not held)"
        out.line(
            "#### \(kind.prefix(1).uppercased() + kind.dropFirst()) \(entity.title.map { "“\(out.text($0))”" } ?? "(untitled)") "
                + "(`\(entity.entity)`)")
        out.line()
        var facts = [entity.created ? "Created by them" : "Created by someone else"]
        if entity.deleted { facts.append("deleted (hidden, its content still held)") }
        out.line(facts.joined(separator: "; ") + ".")
        out.line()
        if !entity.standing.isEmpty {
            out.line("Standing as they wrote it:")
            out.line()
            for value in entity.standing {
                out.line("- \(value.field): \(value.text.map { "“\(out.text($0))”" } ?? value.value.map { out.value($0) } ?? "")")
            }
            out.line()
        }
        out.line("| When (UTC) | Field | Edit | Device | Signing |")
        out.line("|---|---|---|---|---|")
        for edit in entity.edits {
            out.line(
                "| \(Self.time(edit.at)) | \(edit.field.isEmpty ? "—" : edit.field) | \(out.edit(edit.edit)) | "
                    + "`\(edit.device)` #\(edit.counter) | \(edit.signing.displayName) |")
        }
        out.line()
    }

    private func spaceName(_ space: SpaceID) -> String { spaces.first { $0.space == space }?.name ?? space.description }

    static func time(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }

    static func kindName(_ kind: String) -> String {
        EntityKind(rawValue: kind).map { $0 == .session ? "session" : $0.displayName.lowercased() } ?? kind
    }

    static func roleName(_ role: String, field: String) -> String {
        switch role {
        case "facilitator": "Facilitator"
        case "participant": "Participant"
        case "owner": "Owner"
        case "author": "Author"
        case "spaceMember": "Member"
        default: "Named in \(field)"
        }
    }
}

/// Markdown text being written, with what a report's text needs: characters that Markdown
/// or HTML would read escaped, ids named where a name is known.
private struct MarkdownWriter {
    let names: [EntityID: String]
    private(set) var result = ""

    init(names: [EntityID: String]) {
        self.names = names
    }

    mutating func line(_ text: String = "") {
        result += text + "\n"
    }

    /// Text from the store, on one line, read as text (not as Markdown or HTML).
    func text(_ raw: String) -> String {
        var escaped = ""
        for character in raw {
            switch character {
            case "\n", "\r": escaped += " "
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\\", "`", "*", "_", "[", "]", "#", "|": escaped += "\\\(character)"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Text for a table cell.
    func cell(_ raw: String) -> String { text(raw) }

    /// "Hill Primary (`id`)", or the id alone when no name is known.
    func named(_ entity: EntityID) -> String {
        names[entity].map { "\(text($0)) (`\(entity)`)" } ?? "`\(entity)`"
    }

    func value(_ value: FieldValue) -> String {
        switch value {
        case .null: "(cleared)"
        case .bool(let flag): flag ? "yes" : "no"
        case .int(let number): "\(number)"
        case .string(let string): "“\(text(string))”"
        case .timestamp(let milliseconds): SubjectAccessReport.time(milliseconds)
        case .reference(let entity): named(entity)
        }
    }

    func edit(_ edit: HistoryEditKind) -> String {
        switch edit {
        case .created(let kind): "created (\(SubjectAccessReport.kindName(kind)))"
        case .deleted: "deleted"
        case .set(let value): "set to \(self.value(value))"
        case .added(let value): "added \(self.value(value))"
        case .removed(let value): "removed \(self.value(value))"
        case .insertedText(let excerpt, let length): "typed “\(text(excerpt))” (\(length) characters)"
        case .deletedText(let excerpt, let length):
            "deleted \(excerpt.map { "“\(text($0))” " } ?? "")(\(length) characters)"
        case .listInserted(let value): "inserted \(self.value(value))"
        case .listMoved: "moved an item"
        case .listRemoved: "removed an item"
        case .erased: "an edit whose content was erased"
        case .erasure(.entity): "erased the whole record"
        case .erasure(.field(_, let field)): "erased the history of \(field)"
        case .erasure(.contributions(let member, _)): "erased everything written by member \(member.uuidString.lowercased())"
        }
    }
}
