import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `history`: who wrote an entity's text and fields, when.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show who wrote what in a session, insight, action or prompt, and when: every edit, oldest first.",
        discussion: """
            Each edit: when (local time, to the second; UTC with --utc), who (the member the writing device is certified for, as "Ada Lovelace \
            (Northgate)", or "an unverified device 3f2a9c01…" when this replica holds no certificate of it), \
            the field, what the edit did (text inserted or deleted is shown as an excerpt with its length) \
            and whether a head signed by the device covers it ("signed"), it was accepted unsigned as \
            written before signing existed ("unsigned, before protocol 2"), or neither ("unsigned": \
            merged without verification).
            """)

    @Argument(help: "The entity (a session, insight, action, prompt, member…): its id, an id prefix or its name or title.")
    var id: IDArgument
    @OptionGroup var global: GlobalOptions

    struct Edit: Encodable {
        var at: String
        var timestamp: HLCTimestamp
        var device: ReplicaID
        var counter: UInt64
        var author: DeviceAuthor
        var field: String
        var edit: HistoryEditKind
        var signing: HistorySigning
    }

    struct Result: Encodable {
        var entity: EntityID
        var kind: String?
        var space: SpaceID
        var spaceName: String
        var edits: [Edit]
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let id = try await replica.resolve(self.id, nil)
            let history: EntityHistory
            do { history = try await replica.history(of: id) } catch let error as ReplicaError where error.code == .entityNotFound {
                throw ClientError.notFound("nothing in this replica has id \(id); check the id (or sync first)")
            }
            let space = try await replica.spaceNames().space(history.space)
            let edits = history.edits.map { edit in
                Edit(
                    at: Output.time(edit.milliseconds), timestamp: edit.timestamp, device: edit.dot.replica, counter: edit.dot.counter,
                    author: edit.author, field: edit.field, edit: edit.edit, signing: edit.signing)
            }
            let result = Result(entity: id, kind: history.kind, space: history.space, spaceName: space.displayName, edits: edits)
            var rows: [[String]] = []
            for edit in history.edits {
                rows.append([
                    global.dates.time(edit.milliseconds, seconds: true), edit.author.description,
                    edit.field.isEmpty ? "-" : edit.field,
                    await Self.describe(edit.edit, replica: replica, space: history.space, dates: global.dates),
                    edit.signing.displayName,
                ])
            }
            let shortID = await replica.shortIDs([id])[id] ?? id.description
            try global.emit(
                result,
                "\(Terminal.line(history.kind ?? "entity")) \(shortID) in \(Terminal.line(space.displayName))\n"
                    + Output.table(["WHEN", "WHO", "FIELD", "EDIT", "SIGNED"], rows))
        }
    }

    /// One edit for a person: "set to "Feedback"", "inserted "Peer feedback…" (36 characters)".
    static func describe(_ edit: HistoryEditKind, replica: Replica, space: SpaceID, dates: DateText) async -> String {
        func value(_ value: FieldValue) async -> String {
            switch value {
            case .null: "(cleared)"
            case .string(let string): Conflicts.quoted(string)
            case .timestamp(let time): dates.time(time)
            case .reference(let id):
                // A prompt (on an agenda) by its text; a member or school by name.
                if let text = replica.promptText(id, in: space) {
                    Conflicts.quoted(short(text))
                } else if let starter = PromptLibrary.starterPrompt(id) {
                    Conflicts.quoted(short(starter.text))
                } else {
                    await replica.displayName(of: id, in: space)
                }
            default: value.description
            }
        }
        func short(_ text: String) -> String {
            text.count > HistoryEditKind.excerptLimit ? String(text.prefix(HistoryEditKind.excerptLimit)) + "…" : text
        }
        func characters(_ count: Int) -> String { count == 1 ? "1 character" : "\(count) characters" }
        switch edit {
        case .created(let kind): return "created (\(kind))"
        case .deleted: return "deleted"
        case .set(let new): return "set to \(await value(new))"
        case .added(let new): return "added \(await value(new))"
        case .removed(let old): return "removed \(await value(old))"
        case .insertedText(let excerpt, let length): return "inserted \(Conflicts.quoted(excerpt)) (\(characters(length)))"
        case .deletedText(let excerpt?, let length): return "deleted \(Conflicts.quoted(excerpt)) (\(characters(length)))"
        case .deletedText(nil, let length): return "deleted \(characters(length))"
        case .listInserted(let new): return "added to the list: \(await value(new))"
        case .listMoved: return "moved an item of the list"
        case .listRemoved: return "removed an item from the list"
        case .erased: return "(erased)"
        case .erasure(.entity): return "erased the whole record"
        case .erasure(.field(_, let field)): return "erased the history of \(field)"
        case .erasure(.contributions(let member, _)): return "erased everything written by member \(member.uuidString.lowercased())"
        }
    }
}
