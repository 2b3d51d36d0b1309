import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `sync`: exchange changes with the server.
struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sync with the server (all spaces, or --space): send what it lacks, receive what you lack.")

    @Option(help: "Only this space: its UUID or its name.") var space: SpaceArgument?
    @Option(help: "Attempts per request before giving up (network errors and 5xx are retried).") var attempts: Int = 6
    @Flag(help: "Allow http:// to another machine for this sync (token and notes unencrypted).") var allowInsecureHTTP = false
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        var pushed: Int
        var pulled: Int
        var requests: Int
        var spaces: [SpaceID]
        /// Changes of other devices from before signing that cannot be verified (not sent).
        var unverifiable: Int
        /// Changes that depend on those, not sent until their authors send them signed.
        var waiting: Int
        /// Spaces the server refused (`space_not_permitted`); exit 77.
        var notPermitted: [SpaceID]
        /// Of those, the spaces this replica stopped holding, their content erased.
        var left: [SpaceID]
        /// Personal reflection prompts put in your personal space by this sync (its first).
        var seededPrompts: Int
        /// What other devices created that arrived in this sync: new sessions, insights and
        /// actions, in all and per author.
        var arrived: SyncArrivals
    }

    func validate() throws {
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            var config = try LoginConfig.load(global.configPath)
            // No --space: every space held, and your personal space once the directory lists it.
            var spaces: [SpaceID]?
            if let space { spaces = [try await replica.chooseSpace(space)] }
            guard let url = URL(string: config.server) else {
                throw ClientError.data("the stored server URL is malformed; run login again")
            }
            var configuration = SyncClient.Configuration(server: url, token: config.token)
            configuration.allowInsecureHTTP = allowInsecureHTTP || config.allowInsecureHTTP == true
            configuration.retry.maxAttempts = attempts
            let client = SyncClient(configuration: configuration)
            let showProgress = isatty(STDERR_FILENO) == 1 && !global.json
            let names = try await replica.spaceNames()  // before any space is left: its name is shown
            let progress = showProgress ? Self.progressDisplay(names) : nil
            let (summary, arrived) = try await client.syncReportingArrivals(replica, spaces: spaces, progress: progress)
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            // Its first sync puts the personal reflection prompts in your personal space.
            let personal = try replica.personalSpace()
            var seeded = 0
            if let personal, summary.spaces.contains(personal.space) { seeded = try await client.seedPersonalReflection(replica) }
            let held = try replica.heldVectors()
            for space in summary.spaces { config.serverHas[space.description] = held[space] }
            for left in summary.left { config.serverHas[left.space.description] = nil }
            try config.save(global.configPath)
            let left = Set(summary.left.map(\.space))
            var lines = [
                "synced \(summary.spaces.count) space\(summary.spaces.count == 1 ? "" : "s"): sent \(summary.pushed), received \(summary.pulled) changes"
                    + Output.heldBack(unverifiable: summary.unverifiable, waiting: summary.waiting)
            ]
            for author in arrived.authors {
                lines.append(
                    "new from \(Terminal.line(author.name)): "
                        + SyncArrivals.counts(sessions: author.sessions, insights: author.insights, actions: author.actions))
            }
            if seeded > 0, let personal {
                lines.append("added \(seeded) personal reflection prompts to \(Terminal.line(personal.name)) (`prompts list` shows them)")
            }
            for space in summary.notPermitted {
                let name = names.space(space).oneLine.description
                lines.append(
                    left.contains(space)
                        ? "left \(name): the server no longer lets you use it and your space directory no longer lists it; its notes were erased from this device"
                        : "not permitted: \(name): the server does not let you use it; nothing was sent or received for it (`dialogue-client spaces leave` stops holding it)"
                )
            }
            try global.emit(
                Result(
                    pushed: summary.pushed, pulled: summary.pulled, requests: summary.requests, spaces: summary.spaces,
                    unverifiable: summary.unverifiable, waiting: summary.waiting, notPermitted: summary.notPermitted,
                    left: summary.left.map(\.space), seededPrompts: seeded, arrived: arrived),
                lines.joined(separator: "\n"))
            if !summary.notPermitted.isEmpty { throw ExitCode(Exit.noPermission) }
        }
    }

    /// Shows each step on one terminal line, overwritten by the next.
    static func progressDisplay(_ names: SpaceNames) -> @Sendable (SyncClient.Progress) -> Void {
        { progress in
            FileHandle.standardError.write(Data("\r\u{1B}[K\(Terminal.line(progress.line(names: names)))".utf8))
        }
    }
}

/// `bundle export|import`: exchange changes as a file, with no network.
struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Exchange changes as a file (USB stick, email), with no network.",
        subcommands: [ExportBundle.self, ImportBundle.self])

    struct ExportBundle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write the changes of your shared spaces (or of each --space) to a signed file.",
            discussion: """
                Without --space, the bundle holds the shared spaces of your space directory, never your \
                school's private space nor your personal space: those leave only when named, with a warning.
                """)
        @Argument(help: "The bundle file to write.", completion: .file()) var file: String
        @Option(
            name: .customLong("space"),
            help: "A space to include, by name or id; repeat for several (default: your shared spaces).")
        var spaces: [SpaceArgument] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                var chosen: [SpaceID] = []
                for space in spaces { chosen.append(try await replica.chooseSpace(space)) }
                let summary = try replica.exportBundle(to: URL(fileURLWithPath: file), spaces: chosen.isEmpty ? nil : chosen)
                for entry in summary.privateSpaces {
                    let what = entry.kind == .personal ? "your personal space" : "the private space"
                    FileHandle.standardError.write(
                        Data(
                            Terminal.line(
                                "warning: exporting \(what) «\(entry.name)»: whoever gets \(file) can read all of its notes"
                            ).utf8 + [0x0A]))
                }
                struct Exported: Encodable {
                    var file: String
                    var changes: Int
                    var bytes: Int
                    var spaces: [SpaceID]
                    var privateSpaces: [SpaceID]
                    var personalSpaces: [SpaceID]
                }
                try global.emit(
                    Exported(
                        file: file, changes: summary.changes, bytes: summary.bytes, spaces: summary.spaces,
                        privateSpaces: summary.privateSpaces.filter { $0.kind == .private }.map(\.space),
                        personalSpaces: summary.privateSpaces.filter { $0.kind == .personal }.map(\.space)),
                    "wrote \(summary.changes) changes (\(summary.bytes) bytes) to \(file)")
            }
        }
    }

    struct ImportBundle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Merge a signed bundle file; one that is damaged, does not verify or holds a space you may not hold changes nothing.")
        @Argument(help: "The bundle file to read.", completion: .file()) var file: String

        struct Imported: Encodable {
            var file: String
            var applied: Int
            var alreadyHeld: Int
            var waiting: Int
        }
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                guard FileManager.default.fileExists(atPath: file) else { throw ClientError.notFound("no bundle file \(file)") }
                let replica = try global.openReplica()
                let report = try await replica.importBundle(from: URL(fileURLWithPath: file))
                try global.emit(
                    Imported(file: file, applied: report.applied, alreadyHeld: report.alreadyHeld, waiting: report.waiting),
                    "imported \(file): \(report.applied) new, \(report.alreadyHeld) already held, \(report.waiting) waiting for earlier changes"
                )
            }
        }
    }
}
