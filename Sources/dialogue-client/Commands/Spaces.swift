import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `spaces leave`: stop holding a space (issue 13: leaving a partnership, access ended).
struct Spaces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The spaces this replica holds.", subcommands: [Leave.self])

    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop holding a space and erase its notes from this device.",
            discussion: """
                Everything this replica holds of the space is erased from its files (the change log, \
                every note, the search index), not merely hidden. Others' copies, and the server's, \
                are not touched. `sync` does this by itself for a space the server no longer lets you \
                use and your space directory no longer lists.
                """)

        @Argument(help: "The space: its UUID or its name.") var space: SpaceArgument
        @Flag(help: "Leave even though the server has not received some of your edits in it (they are lost).")
        var discardUnsynced = false
        @OptionGroup var global: GlobalOptions

        struct Result: Encodable {
            var space: SpaceID
            var name: String?
            /// Changes erased from this replica.
            var changes: Int
        }

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let id = try await replica.chooseSpace(space)
                let named = try await replica.spaceNames().space(id)
                var config = LoginConfig.loadIfPresent(global.configPath)
                let mine = try replica.heldVectors()[id]?[replica.id] ?? 0
                let onServer = config?.serverHas[id.description]?[replica.id] ?? 0
                if mine > onServer, !discardUnsynced {
                    throw ClientError.usage(
                        "the server has not received your latest edits in \(named.oneLine.description); "
                            + "run `dialogue-client sync` first, or pass --discard-unsynced to lose them")
                }
                let left = try await replica.leave(id)
                if config != nil {
                    config?.serverHas[id.description] = nil
                    try config?.save(global.configPath)
                }
                try global.emit(
                    Result(space: id, name: named.name, changes: left.changes),
                    "left \(named.oneLine.description): erased \(left.changes) changes from this device")
            }
        }
    }
}
