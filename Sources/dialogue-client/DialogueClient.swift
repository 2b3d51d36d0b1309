import ArgumentParser
import DialogueSync

/// `dialogue-client`: partnership dialogue from the command line, offline first.
@main
struct DialogueClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dialogue-client",
        abstract: "Partnership dialogue from the command line: sessions, prompts, insights and actions, offline first.",
        discussion: """
            Everything is written to a local replica first and merged with colleagues' work by `sync` (through a dialogue-server) or by `bundle export|import` (no network). Every command takes --replica PATH (env DIALOGUE_REPLICA; default $XDG_DATA_HOME/dialogue/replica.sqlite) and --json (one JSON document on stdout). Errors go to stderr; nothing waits for input when stdin is not a terminal.

            \(Exit.table)

            Shell completion: dialogue-client --generate-completion-script bash|zsh|fish
            """,
        version: "dialogue-client \(DialogueRelease.description)",
        subcommands: [
            Init.self, Login.self, Status.self, WhoAmI.self, Sessions.self, Prompts.self, Insights.self, Actions.self, Members.self,
            Schools.self, Conflicts.self, History.self, Sync.self, BundleCommand.self, Export.self, Report.self, Spaces.self, Forget.self,
        ]
    )

    /// The library's `main`, with "did you mean" added to a usage error where the parser
    /// gives none (``Typos``); every other outcome and exit code is the parser's.
    static func main() async {
        do {
            var command = try await asyncParseAsRoot()
            if var command = command as? AsyncParsableCommand { try await command.run() } else { try command.run() }
        } catch {
            if exitCode(for: error) == .validationFailure,
                let hint = Typos.hint(for: Array(CommandLine.arguments.dropFirst()), root: Self.self)
            {
                Typos.exit(usage: error, hint: hint, command: Self.self)
            }
            exit(withError: error)
        }
    }
}
