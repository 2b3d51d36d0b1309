import ArgumentParser
import DialogueSync
import Foundation

/// `dialogue-client`: partnership dialogue from the command line, offline first.
@main
struct DialogueClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dialogue-client",
        abstract: "Partnership dialogue from the command line: sessions, prompts, insights and actions, offline first.",
        discussion: """
            Everything is written to a local replica first and merged with colleagues' work by `sync` (through a dialogue-server) or by `bundle export|import` (no network). Every command takes --replica PATH (env DIALOGUE_REPLICA; default $XDG_DATA_HOME/dialogue/replica.sqlite), --json (one JSON document on stdout; an error is one JSON document on stderr: code, message, exit), --utc (show and read times in UTC instead of the local time zone, TZ) and --verbose (log lines on stderr). Errors go to stderr; nothing waits for input when stdin is not a terminal.

            \(Exit.table)

            Shell completion: dialogue-client --generate-completion-script bash|zsh|fish
            """,
        version: "dialogue-client \(DialogueRelease.description)",
        subcommands: [
            Init.self, Login.self, Status.self, WhoAmI.self, Sessions.self, Prompts.self, Insights.self, Actions.self, Members.self,
            Schools.self, Conflicts.self, History.self, Sync.self, BundleCommand.self, Export.self, Report.self, Spaces.self, Forget.self,
        ]
    )

    /// Parses and runs a command. Every failure is reported the same way, here or in
    /// ``runReporting(json:_:)``: `error: …` on stderr, or with `--json` one JSON document
    /// (``JSONError``), command-line errors found by the parser included (code `usage`),
    /// with "did you mean" added where the parser gives none (``Typos``).
    static func main() async {
        ClientLogging.bootstrap()
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            // --help and --version (exit 0) print text; so do parser errors without --json.
            let status = exitCode(for: error)
            let hint =
                status == .validationFailure ? Typos.hint(for: Array(CommandLine.arguments.dropFirst()), root: Self.self) : nil
            guard jsonRequested, status != .success else {
                if let hint { Typos.exit(usage: error, hint: hint, command: Self.self) }
                exit(withError: error)
            }
            let failure = ClientError(code: status.rawValue, message: message(for: error) + (hint.map { " " + $0 } ?? ""))
            reportFailure(status.rawValue == Exit.usage ? failure.with(code: "usage") : failure, json: true)
            Foundation.exit(status.rawValue)
        }
        do {
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            exit(withError: error)  // already reported by `runReporting`
        } catch  where exitCode(for: error) == .success {
            exit(withError: error)
        } catch {
            // A command that did not report its own failure: reported as `runReporting` would.
            let failure = ClientError(error)
            reportFailure(failure, json: jsonRequested)
            Foundation.exit(failure.code)
        }
    }

    /// Whether `--json` was given, read from the arguments themselves: a command line the
    /// parser refused has no parsed options.
    private static var jsonRequested: Bool {
        CommandLine.arguments.dropFirst().prefix { $0 != "--" }.contains("--json")
    }
}
