import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `sessions …`: dialogue sessions.
struct Sessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, show, edit, archive and delete dialogue sessions.",
        subcommands: [
            Create.self, List.self, Show.self, Edit.self, AddParticipant.self, RemoveParticipant.self, Close.self, Archive.self,
            Unarchive.self, Delete.self, Restore.self, Deleted.self,
        ])

    struct Created: Encodable {
        var session: EntityID
        var space: SpaceID
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a session (status planned unless given).")
        @Option(help: "The space to create it in (needed when several are held): its UUID or its name.") var space: SpaceArgument?
        @Option(help: "The title.") var title: String
        @Option(help: "When: 2025-03-14 09:30 or 14/03/2025 09:30 (local time; UTC with --utc), 2025-03-14, today…") var at: String?
        @Option(help: "The host school: its id, an id prefix or its name.") var hostSchool: IDArgument?
        @Option(help: "The facilitating member: their id, an id prefix or their name.") var facilitator: IDArgument?
        @Option(help: "modelling, monitoring or dialogue.") var strategy: LeadershipStrategy?
        @Option(help: "The focus topic.") var focus: String?
        @Option(help: "planned, held or closed.") var status: SessionStatus = .planned
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let space = try await replica.chooseSpace(space)
                let scheduled = try at.map { try Dates.instant($0, option: "--at", global.dates) }
                let hostSchool = try await replica.resolve(self.hostSchool, .school)
                let facilitator = try await replica.resolve(self.facilitator, .member)
                let (title, strategy, focus, status) = (title, strategy, focus, status)
                let id = try await replica.edit(in: space) { editor in
                    try editor.createSession(
                        title: title, scheduledAt: scheduled, hostSchool: hostSchool, facilitator: facilitator, strategy: strategy,
                        focus: focus, status: status)
                }
                try global.emit(Created(session: id, space: space), id.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sessions, by date.")
        @Option(help: "Only this space (default: every space held): its UUID or its name.") var space: SpaceArgument?
        @Option(help: "Only sessions with this status.") var status: SessionStatus?
        @Option(help: "Only sessions on or after this date.") var from: String?
        @Option(help: "Only sessions on or before this date (inclusive).") var to: String?
        @Option(help: "Only sessions this member facilitates: their id, an id prefix or their name.") var facilitator: IDArgument?
        @Flag(help: "List the archived sessions (left out otherwise) instead.") var archived = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let spaces = try await replica.spacesOrAll(space)
                let archived = archived
                let facilitator = try await replica.resolve(self.facilitator, .member)
                let start = try from.map { try Dates.instant($0, option: "--from", global.dates) }
                let end = try to.map { try Dates.endInstant($0, option: "--to", global.dates) }
                var sessions: [SessionSummary] = []
                for space in spaces {
                    sessions += try replica.sessions(
                        in: space, from: start, to: end, status: status, facilitator: facilitator, archived: archived)
                }
                let column = SpaceColumn(try await replica.spaceNames(), listing: spaces)
                let short = await replica.shortIDs(sessions.map(\.id))
                var rows: [[String]] = []
                for session in sessions {
                    typealias F = DialogueSession.Field
                    rows.append(
                        column.row(
                            [
                                short[session.id] ?? session.id.description,
                                SessionMinutes.shown(global.dates.time(session.scheduledAt), session.isInvalid(F.scheduledAt)),
                                SessionMinutes.shown(session.status?.rawValue ?? "-", session.isInvalid(F.status)),
                                SessionMinutes.shown(
                                    await replica.displayName(of: session.facilitator, in: session.space), session.isInvalid(F.facilitator)),
                                SessionMinutes.shown(session.title ?? "", session.isInvalid(F.title)),
                            ], space: session.space))
                }
                try global.emit(
                    sessions.map { WithSpaceName(row: $0, spaceName: column.names.space($0.space).name) },
                    sessions.isEmpty
                        ? (archived ? "no archived sessions" : "no sessions")
                        : Output.table(column.header(["ID", "WHEN", "STATUS", "FACILITATOR", "TITLE"]), rows))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a session's whole record: agenda, participants, summary, insights, actions.")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let record = try await Sessions.record(try await replica.resolve(session, .session), in: replica)
                let text = try await replica.minutes(of: record, dates: global.dates)
                try global.emit(record, text)
            }
        }
    }

    static func record(_ id: EntityID, in replica: Replica) async throws -> SessionRecord {
        _ = try await replica.requireSpace(holding: id, kind: .session)
        guard let record = try replica.session(id) else { throw ClientError.notFound("no session \(id) in this replica") }
        return await replica.ordered(record)
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a session's fields; --summary, --append and --edit change the shared summary as a minimal edit.")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @Option(help: "The title.") var title: String?
        @Option(help: "When: 2025-03-14 09:30 or 14/03/2025 09:30 (local time; UTC with --utc), 2025-03-14, today…") var at: String?
        @Option(help: "The host school: its id, an id prefix or its name.") var hostSchool: IDArgument?
        @Option(help: "The facilitating member: their id, an id prefix or their name.") var facilitator: IDArgument?
        @Option(help: "modelling, monitoring or dialogue.") var strategy: LeadershipStrategy?
        @Option(help: "The focus topic.") var focus: String?
        @Option(help: "planned, held or closed.") var status: SessionStatus?
        @Option(help: "The new shared summary (`-` reads stdin).") var summary: String?
        @Option(help: "Read the new shared summary from a file.", completion: .file()) var summaryFile: String?
        @Option(help: "Add this to the end of the shared summary, on a line of its own (`-` reads stdin).") var append: String?
        @Flag(help: "Edit the shared summary in your editor ($VISUAL, $EDITOR or vi; needs a terminal).") var edit = false
        @OptionGroup var global: GlobalOptions

        /// Whether any option says what to change.
        var changesSomething: Bool {
            title != nil || at != nil || hostSchool != nil || facilitator != nil || strategy != nil || focus != nil || status != nil
                || summary != nil || summaryFile != nil || append != nil || edit
        }

        func run() async throws {
            try await runReporting(json: global.json) {
                guard changesSomething else {
                    throw ClientError.usage(
                        "say what to change: --title, --at, --host-school, --facilitator, --strategy, --focus, --status, "
                            + "--summary, --summary-file, --append or --edit (see `dialogue-client sessions edit --help`)")
                }
                let replica = try global.openReplica()
                let session = try await replica.resolve(self.session, .session)
                let space = try await replica.requireSpace(holding: session, kind: .session)
                let scheduled = try at.map { try Dates.instant($0, option: "--at", global.dates) }
                let summaryGiven = summary != nil || summaryFile != nil || append != nil || edit
                let newSummary =
                    summaryGiven
                    ? try await TextChange.read(
                        argument: summary, file: summaryFile, append: append, edit: edit, name: "summary.md",
                        current: { try replica.session(session)?.summary ?? "" }) : nil
                let hostSchool = try await replica.resolve(self.hostSchool, .school)
                let facilitator = try await replica.resolve(self.facilitator, .member)
                let (id, title, strategy, focus, status) = (session, title, strategy, focus, status)
                typealias F = DialogueSession.Field
                try await replica.edit(in: space) { editor in
                    if let title { try editor.set(F.title, of: id, to: .string(title)) }
                    if let scheduled { try editor.set(F.scheduledAt, of: id, to: .timestamp(scheduled)) }
                    if let hostSchool { try editor.set(F.hostSchool, of: id, to: .reference(hostSchool)) }
                    if let facilitator { try editor.set(F.facilitator, of: id, to: .reference(facilitator)) }
                    if let strategy { try editor.set(F.strategy, of: id, to: FieldValue(strategy)) }
                    if let focus { try editor.set(F.focus, of: id, to: .string(focus)) }
                    if let status { try editor.set(F.status, of: id, to: FieldValue(status)) }
                    switch newSummary {
                    case .replace(let text): try editor.replaceText(F.summary, of: id, with: text)
                    case .append(let text): try editor.appendToSummary(of: id, text)
                    case nil: break
                    }
                }
                try global.emit(try await Sessions.record(session, in: replica), "updated session \(session)")
            }
        }
    }

    struct AddParticipant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a member to a session's participants.")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @Argument(help: "The member: their id, an id prefix or their name.") var member: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Sessions.change(session, global, also: member, kind: .member) { editor, id, member in
                try editor.addParticipant(member!, to: id)
            }
        }
    }

    struct RemoveParticipant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a member from a session's participants.")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @Argument(help: "The member: their id, an id prefix or their name.") var member: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Sessions.change(session, global, also: member, kind: .member) { editor, id, member in
                try editor.removeParticipant(member!, from: id)
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a session closed: its record is complete.")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Sessions.change(session, global) { editor, id, _ in
                try editor.set(DialogueSession.Field.status, of: id, to: FieldValue(SessionStatus.closed))
            }
        }
    }

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive a session: it leaves `sessions list` (see --archived) but keeps its record.")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Sessions.change(session, global, done: "archived") { editor, id, _ in try editor.archive(id) }
        }
    }

    struct Unarchive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring an archived session back into `sessions list`.")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Sessions.change(session, global, done: "unarchived") { editor, id, _ in try editor.unarchive(id) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a session, and with it what was captured in it (kept recoverable: see `sessions restore`).")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.delete(session, .session, global) }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring back a deleted session, as it was.")
        @Argument(help: "The deleted session: its id, an id prefix or its title.") var session: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.restore(session, .session, global) }
    }

    struct Deleted: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the deleted sessions that `restore` can bring back.")
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.list(.session, global) }
    }

    /// Edits one session (and, given, names one other entity, of `kind`: both resolved
    /// first, so an unknown one changes nothing) and prints its record.
    static func change(
        _ session: IDArgument, _ global: GlobalOptions, also other: IDArgument? = nil, kind: EntityKind = .member,
        done: String = "updated", _ body: @escaping @Sendable (inout SpaceEditor, EntityID, EntityID?) throws -> Void
    ) async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let session = try await replica.resolve(session, .session)
            let other = try await replica.resolve(other, kind)
            let space = try await replica.requireSpace(holding: session, kind: .session)
            try await replica.edit(in: space) { editor in try body(&editor, session, other) }
            let record = try await Sessions.record(session, in: replica)
            try global.emit(record, "\(done) session \(session)")
        }
    }
}
