import ArgumentParser
import DialogueSync
import Foundation

/// `dialogue-server`: the central replica partner schools sync through.
@main
struct DialogueServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dialogue-server",
        abstract: "The Dialogue sync server: partner schools' replicas sync through it.",
        discussion: """
            With no subcommand it serves (see `serve --help`). Every option has an environment
            variable: DIALOGUE_HOST, DIALOGUE_PORT, DIALOGUE_DATA_DIR, DIALOGUE_DATABASE, DIALOGUE_LOG_LEVEL.
            """,
        version: "dialogue-server \(DialogueRelease.description)",
        subcommands: [Serve.self, Admin.self],
        defaultSubcommand: Serve.self
    )

    /// Runs the command; an id that names nothing (``Admin/NotFound``) exits 66, as the
    /// client's unknown ids do, after a one-line message.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as Admin.NotFound {
            FileHandle.standardError.write(Data("Error: \(Admin.lowercasingIDs(error.description))\n".utf8))
            Foundation.exit(66)
        } catch {
            exit(withError: error)
        }
    }
}
