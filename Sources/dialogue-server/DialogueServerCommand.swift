import ArgumentParser

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
        subcommands: [Serve.self, Admin.self],
        defaultSubcommand: Serve.self
    )
}
