import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `actions …`: follow-up commitments.
struct Actions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, reassign, complete and list follow-up actions.",
        subcommands: [Add.self, Reassign.self, Complete.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an action to a session (or to an insight).")
        @Argument(help: "What is to be done.") var description: String
        @Option(help: "The session it comes from.") var session: EntityID?
        @Option(help: "The insight that led to it.") var insight: EntityID?
        @Option(help: "The owner's member id.") var owner: EntityID?
        @Option(help: "Due date, YYYY-MM-DD.") var due: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let space: SpaceID
                if let session {
                    space = try await replica.requireSpace(holding: session, kind: .session)
                } else if let insight {
                    space = try await replica.requireSpace(holding: insight, kind: .insight)
                } else {
                    throw ClientError.usage("give --session or --insight")
                }
                let (description, session, insight, owner, due) = (description, session, insight, owner, due)
                let id = try await replica.edit(in: space) { editor in
                    try editor.addAction(description, owner: owner, dueDate: due, session: session, insight: insight)
                }
                try global.emit(["action": id.description, "space": space.description], id.description)
            }
        }
    }

    struct Reassign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give an action to another owner.")
        @Argument(help: "The action's id.") var action: EntityID
        @Argument(help: "The new owner's member id.") var owner: EntityID
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let owner = owner
            try await Actions.change(action, global) { editor, id in try editor.reassign(id, to: owner) }
        }
    }

    struct Complete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an action done.")
        @Argument(help: "The action's id.") var action: EntityID
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Actions.change(action, global) { editor, id in try editor.complete(id) }
        }
    }

    static func change(
        _ action: EntityID, _ global: GlobalOptions, _ body: @escaping @Sendable (inout SpaceEditor, EntityID) throws -> Void
    ) async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let space = try await replica.requireSpace(holding: action, kind: .action)
            try await replica.edit(in: space) { editor in try body(&editor, action) }
            let view = await replica.document(space).flatMap { DialogueModel.Action(action, in: $0) }
            struct Updated: Encodable {
                var action: String
                var status: String?
                var owner: String?
            }
            try global.emit(
                Updated(action: action.description, status: view?.status?.rawValue, owner: view?.owner?.description),
                "updated action \(action)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List open actions, or only overdue ones.")
        @Flag(help: "Only open actions due before --as-of.") var overdue = false
        @Option(help: "Today, YYYY-MM-DD (default: today's local date).") var asOf: String?
        @Option(help: "Only this owner's actions.") var owner: EntityID?
        @Option(help: "Only this space: its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                var chosen: SpaceID?
                if let space { chosen = try await replica.chooseSpace(space) }
                let actions =
                    overdue || asOf != nil
                    ? try replica.overdueActions(asOf: asOf ?? Dates.today, owner: owner, in: chosen)
                    : try replica.openActions(owner: owner, in: chosen)
                let column = SpaceColumn(try await replica.spaceNames(), listing: chosen.map { [$0] })
                var rows: [[String]] = []
                for action in actions {
                    rows.append(
                        column.row(
                            [
                                action.id.description,
                                SessionMinutes.shown(action.dueDate ?? "-", action.isInvalid(DialogueModel.Action.Field.dueDate)),
                                SessionMinutes.shown(
                                    await replica.displayName(of: action.owner, in: action.space),
                                    action.isInvalid(DialogueModel.Action.Field.owner)),
                                SessionMinutes.shown(action.description ?? "", action.isInvalid(DialogueModel.Action.Field.description)),
                            ], space: action.space))
                }
                try global.emit(
                    actions.map { WithSpaceName(row: $0, spaceName: column.names.space($0.space).name) },
                    actions.isEmpty ? "no actions" : Output.table(column.header(["ID", "DUE", "OWNER", "DESCRIPTION"]), rows))
            }
        }
    }
}
