import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `actions …`: follow-up commitments.
struct Actions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, edit, reassign, complete, reopen, cancel, delete and list follow-up actions.",
        subcommands: [
            Add.self, Edit.self, Reassign.self, Complete.self, Reopen.self, Cancel.self, List.self, Delete.self, Restore.self, Deleted.self,
        ])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an action to a session (or to an insight).")
        @Argument(help: "What is to be done.") var description: String
        @Option(help: "The session it comes from: its id, an id prefix or its title.") var session: IDArgument?
        @Option(help: "The insight that led to it: its id or an id prefix.") var insight: IDArgument?
        @Option(help: "The owner: their member id, an id prefix or their name.") var owner: IDArgument?
        @Option(help: "Due date: 2025-03-14, 14/03/2025, today, tomorrow.") var due: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let session = try await replica.resolve(self.session, .session)
                let insight = try await replica.resolve(self.insight, .insight)
                let owner = try await replica.resolve(self.owner, .member)
                let space: SpaceID
                if let session {
                    space = try await replica.requireSpace(holding: session, kind: .session)
                } else if let insight {
                    space = try await replica.requireSpace(holding: insight, kind: .insight)
                } else {
                    throw ClientError.usage("give --session or --insight")
                }
                let due = try self.due.map { try Dates.date($0, option: "--due", global.dates) }
                let description = description
                let id = try await replica.edit(in: space) { editor in
                    try editor.addAction(description, owner: owner, dueDate: due, session: session, insight: insight)
                }
                try global.emit(["action": id.description, "space": space.description], id.description)
            }
        }
    }

    struct Reassign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give an action to another owner.")
        @Argument(help: "The action: its id or an id prefix.") var action: IDArgument
        @Argument(help: "The new owner: their member id, an id prefix or their name.") var owner: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Actions.change(action, global, owner: owner) { editor, id, owner in try editor.reassign(id, to: owner!) }
        }
    }

    struct Complete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an action done.")
        @Argument(help: "The action: its id or an id prefix.") var action: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Actions.change(action, global) { editor, id, _ in try editor.complete(id) }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change what an action says is to be done, or its due date.")
        @Argument(help: "The action: its id or an id prefix.") var action: IDArgument
        @Option(help: "What is to be done.") var description: String?
        @Option(help: "The due date: 2025-03-14, 14/03/2025, today, tomorrow.") var due: String?
        @Flag(help: "Remove the due date.") var noDue = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            var parsedDue: String?
            try await runReporting(json: global.json) {
                if self.description == nil, self.due == nil, !self.noDue {
                    throw ClientError.usage("say what to change: --description, --due or --no-due")
                }
                if self.due != nil, self.noDue { throw ClientError.usage("give --due or --no-due, not both") }
                // The same lenient dates as `actions add --due`.
                parsedDue = try self.due.map { try Dates.date($0, option: "--due", global.dates) }
            }
            let (description, due, noDue) = (description, parsedDue, noDue)
            try await Actions.change(action, global) { editor, id, _ in
                if let description { try editor.describe(id, as: description) }
                if let due { try editor.setDueDate(of: id, to: due) }
                if noDue { try editor.setDueDate(of: id, to: nil) }
            }
        }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a done or cancelled action open again.")
        @Argument(help: "The action: its id or an id prefix.") var action: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Actions.change(action, global) { editor, id, _ in try editor.reopen(id) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an action cancelled: no longer to be done, kept on record.")
        @Argument(help: "The action: its id or an id prefix.") var action: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Actions.change(action, global) { editor, id, _ in try editor.cancel(id) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an action (kept recoverable: see `actions restore`).")
        @Argument(help: "The action: its id or an id prefix.") var action: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.delete(action, .action, global) }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring back a deleted action, as it was.")
        @Argument(help: "The deleted action: its id or an id prefix.") var action: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.restore(action, .action, global) }
    }

    struct Deleted: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the deleted actions that `restore` can bring back.")
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.list(.action, global) }
    }

    /// Edits one action (and, given, names its owner: both resolved first, so an unknown one
    /// changes nothing) and prints what it now is.
    static func change(
        _ action: IDArgument, _ global: GlobalOptions, owner: IDArgument? = nil,
        _ body: @escaping @Sendable (inout SpaceEditor, EntityID, EntityID?) throws -> Void
    ) async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let action = try await replica.resolve(action, .action)
            let owner = try await replica.resolve(owner, .member)
            let space = try await replica.requireSpace(holding: action, kind: .action)
            try await replica.edit(in: space) { editor in try body(&editor, action, owner) }
            let view = await replica.document(space).flatMap { DialogueModel.Action(action, in: $0) }
            struct Updated: Encodable {
                var action: String
                var status: String?
                var owner: String?
                var description: String?
                var dueDate: String?
            }
            try global.emit(
                Updated(
                    action: action.description, status: view?.status?.rawValue, owner: view?.owner?.description,
                    description: view?.description, dueDate: view?.dueDate),
                "updated action \(action)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List open actions (or those of --status, or --all), or only overdue ones.")
        @Flag(help: "Only open actions due before --as-of.") var overdue = false
        @Option(help: "Only actions with this status: open (the default), done or cancelled.") var status: ActionStatus?
        @Flag(help: "Actions of every status.") var all = false
        @Option(help: "Today: 2025-03-14, 14/03/2025… (default: today's local date).") var asOf: String?
        @Option(help: "Only this owner's actions: their member id, an id prefix or their name.") var owner: IDArgument?
        @Option(help: "Only this space: its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let dated = overdue || asOf != nil
                if all, status != nil { throw ClientError.usage("give --status or --all, not both") }
                if dated, all || (status != nil && status != .open) {
                    throw ClientError.usage("--overdue lists open actions only: leave out --status and --all")
                }
                let replica = try global.openReplica()
                var chosen: SpaceID?
                if let space { chosen = try await replica.chooseSpace(space) }
                let owner = try await replica.resolve(self.owner, .member)
                let asOf = try self.asOf.map { try Dates.date($0, option: "--as-of", global.dates) }
                let actions =
                    dated
                    ? try replica.overdueActions(asOf: asOf ?? global.dates.today(), owner: owner, in: chosen)
                    : try replica.actions(status: all ? nil : status ?? .open, owner: owner, in: chosen)
                let column = SpaceColumn(try await replica.spaceNames(), listing: chosen.map { [$0] })
                let short = await replica.shortIDs(actions.map(\.id))
                // A list that may mix statuses says each one's.
                let showStatus = all || (status != nil && status != .open)
                var rows: [[String]] = []
                for action in actions {
                    typealias F = DialogueModel.Action.Field
                    var row = [
                        short[action.id] ?? action.id.description, SessionMinutes.shown(action.dueDate ?? "-", action.isInvalid(F.dueDate)),
                    ]
                    if showStatus { row.append(SessionMinutes.shown(action.status?.rawValue ?? "-", action.isInvalid(F.status))) }
                    row.append(
                        SessionMinutes.shown(await replica.displayName(of: action.owner, in: action.space), action.isInvalid(F.owner)))
                    row.append(SessionMinutes.shown(action.description ?? "", action.isInvalid(F.description)))
                    rows.append(column.row(row, space: action.space))
                }
                try global.emit(
                    actions.map { WithSpaceName(row: $0, spaceName: column.names.space($0.space).name) },
                    actions.isEmpty
                        ? "no actions"
                        : Output.table(column.header(["ID", "DUE"] + (showStatus ? ["STATUS"] : []) + ["OWNER", "DESCRIPTION"]), rows))
            }
        }
    }
}
