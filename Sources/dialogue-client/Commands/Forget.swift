import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `forget …`: erasure (issue 13, item 1; docs/PRIVACY.md, "Erasure").
struct Forget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase an insight, a session, a field's history or a member's contributions for good.",
        discussion: """
            Unlike a deletion, an erasure removes the words themselves: from this device's files now \
            (the change log, every note, the search index), and from the server and every other \
            device when they next sync or import a bundle. It cannot be undone. The author of an \
            insight may erase it without asking anyone, and a member anything in their own personal \
            space; anything else needs an admin of the space, \
            whose erasure the server approves (this command asks it).
            """,
        subcommands: [Insight.self, Session.self, Member.self])

    /// What every `forget` prints with --json.
    struct Result: Encodable {
        /// The erasure change written (replica@counter).
        var erasure: String
        var space: SpaceID
        var target: Erasure.Target
        /// Whether the server's approval was asked for and given (an admin's erasure).
        var approved: Bool
        /// Changes on this device whose content the erasure dropped.
        var stripped: Int
    }

    /// Options every `forget` takes.
    struct Options: ParsableArguments {
        @Flag(help: "Do not ask for confirmation (needed when stdin is not a terminal).") var yes = false
        @Flag(help: "Allow plain http:// to a server on another machine when asking for an approval.") var allowInsecureHTTP = false
        @OptionGroup var global: GlobalOptions
    }

    struct Insight: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase an insight (yours: no approval needed; someone else's: an admin's, approved by the server).")
        @Argument(help: "The insight: its id or an id prefix.") var insight: IDArgument
        @Option(help: "Erase only this field's history (e.g. text, evidenceSource).") var field: String?
        @OptionGroup var options: Options

        func run() async throws {
            try await runReporting(json: options.global.json) {
                let replica = try options.global.openReplica()
                let insight = try await replica.resolve(self.insight, .insight)
                let space = try await replica.requireSpace(holding: insight, kind: .insight)
                let target: Erasure.Target = field.map { .field(insight, $0) } ?? .entity(insight)
                let what = field.map { "the history of field '\($0)' of insight \(insight)" } ?? "insight \(insight)"
                try await Forget.erase(target, in: space, describing: what, replica, options)
            }
        }
    }

    struct Session: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a session, or one field's history (an admin's erasure, approved by the server).")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @Option(help: "Erase only this field's history (e.g. summary, title).") var field: String?
        @OptionGroup var options: Options

        func run() async throws {
            try await runReporting(json: options.global.json) {
                let replica = try options.global.openReplica()
                let session = try await replica.resolve(self.session, .session)
                let space = try await replica.requireSpace(holding: session, kind: .session)
                let target: Erasure.Target = field.map { .field(session, $0) } ?? .entity(session)
                let what = field.map { "the history of field '\($0)' of session \(session)" } ?? "session \(session)"
                try await Forget.erase(target, in: space, describing: what, replica, options)
            }
        }
    }

    struct Member: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase everything a member's devices wrote in a space (an admin's erasure, approved by the server).")
        @Argument(help: "The member (as `members list` or a certificate names them): their id, an id prefix or their name.")
        var member: IDArgument
        @Option(help: "The space: its UUID or its name.") var space: SpaceArgument
        @OptionGroup var options: Options

        func run() async throws {
            try await runReporting(json: options.global.json) {
                let replica = try options.global.openReplica()
                let id = try await replica.chooseSpace(space)
                let member = try await replica.resolve(self.member, .member)
                // The devices certified for the member: those whose changes the erasure names.
                let devices = try replica.certificates().filter { $0.member == member.uuid }.map(\.replica)
                guard !devices.isEmpty else {
                    throw ClientError.notFound(
                        "no device of member \(member) is known to this replica (no certificate held); sync first, then try again")
                }
                try await Forget.erase(
                    .contributions(member: member.uuid, replicas: devices), in: id,
                    describing: "everything member \(member) wrote in this space", replica, options)
            }
        }
    }

    /// Asks for confirmation, the server's approval when needed, then erases and reports.
    static func erase(
        _ target: Erasure.Target, in space: SpaceID, describing what: String, _ replica: Replica, _ options: Options
    ) async throws {
        let needsApproval = try await replica.erasureNeedsApproval(target, in: space)
        try confirm("Erase \(what) for good, from this device now and from everyone's at their next sync?", options)
        var approval: ErasureApproval?
        if needsApproval {
            let config = try LoginConfig.load(options.global.configPath)
            guard let url = URL(string: config.server) else {
                throw ClientError.data("the stored server URL is malformed; run login again")
            }
            var configuration = SyncClient.Configuration(server: url, token: config.token)
            configuration.allowInsecureHTTP = options.allowInsecureHTTP || config.allowInsecureHTTP == true
            approval = try await SyncClient(configuration: configuration).requestErasureApproval(space: space, target: target, for: replica)
        }
        let forgotten = try await replica.forget(target, in: space, approval: approval)
        try options.global.emit(
            Result(
                erasure: forgotten.erasure.description, space: space, target: Erasure(target: target).target, approved: approval != nil,
                stripped: forgotten.stripped),
            "erased \(what) on this device (\(forgotten.stripped) changes stripped); "
                + "it reaches the server and others at your next `dialogue-client sync` (or in a bundle you export)")
    }

    /// Asks on the terminal unless --yes; refuses when stdin is not a terminal.
    static func confirm(_ question: String, _ options: Options) throws {
        guard !options.yes else { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw ClientError.usage("an erasure cannot be undone: pass --yes to confirm (stdin is not a terminal, so nothing was asked)")
        }
        FileHandle.standardError.write(Data("\(question) This cannot be undone. [y/N] ".utf8))
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased(), ["y", "yes"].contains(answer) else {
            throw ClientError.usage("nothing was erased")
        }
    }
}
