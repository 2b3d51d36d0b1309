import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `init`: creates the replica and starts holding spaces.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the local replica (again is harmless) and hold the given spaces.")

    @Option(
        name: .customLong("space"),
        help: "A space to hold: its UUID (from your admin), or its name once logged in (`status` lists them); repeat for several.")
    var spaces: [String] = []

    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        var replica: String
        var replicaID: String
        var spaces: [SpaceID]
        /// The spaces held with their names and kinds from the verified directory (none before login).
        var namedSpaces: [NamedSpace]
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let path = global.replicaPath
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            // Folders made for the replica are 0700, the replica and its -wal/-shm 0600, whatever the umask.
            do { try PrivateFiles.createDirectory(directory) } catch { throw ClientError.io("\(error)") }
            let byName = spaces.filter { SpaceID($0) == nil }
            if !byName.isEmpty, !FileManager.default.fileExists(atPath: path) {
                throw ClientError.usage(
                    "a space is named by its UUID until this device has logged in (its space directory names them): "
                        + "run `dialogue-client init`, then `login`, then `init --space '\(byName[0])'`")
            }
            let replica = try Replica(path: path)
            // Every name resolved (from the verified directory) before any space is added.
            var chosen: [SpaceID] = []
            for text in spaces {
                if let id = SpaceID(text) { chosen.append(id) } else { chosen.append(try await replica.space(named: text).id) }
            }
            for space in chosen { try await replica.addSpace(space) }
            let held = await replica.spaces
            let named = try await replica.namedSpaces()
            try global.emit(
                Result(replica: path, replicaID: replica.id.description, spaces: held, namedSpaces: named),
                "replica \(path) (\(replica.id))\n"
                    + (held.isEmpty
                        ? "no spaces held yet: log in (`dialogue-client login`), then run init --space NAME (or --space UUID)"
                        : named.map { "space \($0.id) \(Terminal.line(Status.label($0)))" }.joined(separator: "\n")))
        }
    }
}

/// `login`: registers this device with the server (which certifies its key for the
/// token's member), pins the server's key, and stores the URL and token beside the replica.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register this device with the sync server and store its URL and token (the server must be reachable).",
        discussion: """
            The server certifies this replica's device key for the token's member: that member \
            is who you are (the author of what you capture). The server's key is pinned at the \
            first login and shown as a fingerprint (compare it with `dialogue-server admin \
            server-key`); a later login to a server with another key that the pinned one did not \
            endorse is refused, changing nothing, unless --replace-server-key names its fingerprint.
            """)

    @Option(help: "The server, e.g. https://dialogue.example.org (http:// only to this machine, or with --allow-insecure-http).")
    var server: String
    @Option(help: "A file holding the token (from `dialogue-server admin issue-token`).", completion: .file()) var tokenFile: String?
    @Flag(help: "Read the token from stdin.") var tokenStdin = false
    @Option(
        help: ArgumentHelp(
            "Accept the server's new key, replacing the pinned one: give the fingerprint it presents (SHA256:…), checked with an admin.",
            valueName: "fingerprint"))
    var replaceServerKey: String?
    @Flag(help: "Allow http:// to another machine (token and notes unencrypted); remembered for later syncs.")
    var allowInsecureHTTP = false
    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        var server: String
        var config: String
        var serverKeyFingerprint: String
        var pinnedNow: Bool
        var member: EntityID
        var memberName: String
        var school: EntityID
        var schoolName: String
        var allowInsecureHTTP: Bool?
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let url: URL
            do { url = try ServerAddress(server, allowInsecureHTTP: allowInsecureHTTP).url } catch {
                throw ClientError.usage("--server: \(error)")
            }
            let token = try readToken().trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
                throw ClientError.data("the token is empty or malformed; copy it again from `dialogue-server admin issue-token`")
            }
            guard FileManager.default.fileExists(atPath: global.replicaPath) else {
                throw ClientError.notFound("no replica at \(global.replicaPath); run `dialogue-client init` first")
            }
            let replica = try global.openReplica()
            var configuration = SyncClient.Configuration(server: url, token: token)
            configuration.allowInsecureHTTP = allowInsecureHTTP
            configuration.retry.maxAttempts = 2
            let registration = try await SyncClient(configuration: configuration).registerDevice(
                replica, replacingServerKey: replaceServerKey)
            var config = LoginConfig(server: url.absoluteString, token: token)
            if allowInsecureHTTP { config.allowInsecureHTTP = true }
            if let old = LoginConfig.loadIfPresent(global.configPath), old.server == config.server { config.serverHas = old.serverHas }
            try config.save(global.configPath)
            if allowInsecureHTTP, let host = url.host, !ServerAddress.isLoopback(host), url.scheme?.lowercased() == "http" {
                FileHandle.standardError.write(
                    Data("warning: plain http:// to \(host) allowed: the token and the notes cross the network unencrypted\n".utf8))
            }
            if registration.pinnedNow, replaceServerKey != nil {
                FileHandle.standardError.write(
                    Data("warning: the pinned server key was replaced by \(registration.serverKey.fingerprint)\n".utf8))
            }
            let certificate = registration.certificate
            let fingerprint = registration.serverKey.fingerprint
            try global.emit(
                Result(
                    server: config.server, config: global.configPath, serverKeyFingerprint: fingerprint, pinnedNow: registration.pinnedNow,
                    member: EntityID(certificate.member), memberName: certificate.memberName, school: EntityID(certificate.school),
                    schoolName: certificate.schoolName, allowInsecureHTTP: config.allowInsecureHTTP),
                """
                server key fingerprint \(fingerprint)\(registration.pinnedNow ? " (pinned now)" : "")
                logged in as \(Terminal.line(certificate.memberName)), \(Terminal.line(certificate.schoolName))
                logged in to \(config.server) (token stored in \(global.configPath), mode 0600)
                """)
        }
    }

    func readToken() throws -> String {
        switch (tokenFile, tokenStdin) {
        case (let file?, false):
            guard FileManager.default.fileExists(atPath: file) else { throw ClientError.notFound("no token file \(file)") }
            do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ClientError.io("cannot read \(file): \(error.localizedDescription)")
            }
        case (nil, true):
            if isatty(STDIN_FILENO) == 1, let typed = getpass("Token: ") { return String(cString: typed) }
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        case (nil, false): throw ClientError.usage("give the token with --token-file PATH or --token-stdin")
        default: throw ClientError.usage("give --token-file or --token-stdin, not both")
        }
    }
}

/// `status`: spaces held, changes not yet on the server, last sync.
struct Status: AsyncParsableCommand {
    /// A space's name and kind as a line shows it: "North Partnership (shared)", or
    /// "(not in your directory)" (after its id).
    static func label(_ space: NamedSpace) -> String {
        guard let name = space.name else { return NamedSpace.notInDirectory }
        return space.kind.map { "\(name) (\($0.rawValue))" } ?? name
    }

    static let configuration = CommandConfiguration(abstract: "Show the spaces held, changes not yet on the server and the last sync.")

    @OptionGroup var global: GlobalOptions

    struct SpaceStatus: Encodable {
        var space: SpaceID
        /// Its name in the verified space directory (left out when the directory does not list it).
        var name: String?
        /// "shared" or "private" (left out when the directory does not list it).
        var kind: SpaceDirectory.Kind?
        var unsyncedChanges: Int
        var lastSync: String?
        /// Of those, changes of other devices from before signing that cannot be verified
        /// (they stay on this device), and changes that wait for them.
        var unverifiableChanges: Int
        var waitingChanges: Int
    }

    struct Result: Encodable {
        var replica: String
        var replicaID: String
        var server: String?
        /// The server's key as of the last login (the newest the pinned one leads to).
        var serverKeyFingerprint: String?
        /// Who this device is certified for.
        var member: Member?
        var spaces: [SpaceStatus]
    }

    struct Member: Encodable {
        var id: EntityID
        var name: String
        var school: EntityID
        var schoolName: String
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let config = LoginConfig.loadIfPresent(global.configPath)
            var serverHas: [SpaceID: VersionVector] = [:]
            for (space, vector) in config?.serverHas ?? [:] { if let id = SpaceID(space) { serverHas[id] = vector } }
            let statuses = try await replica.syncStatus(server: config?.server, serverHas: serverHas)
            let rows = statuses.map { status in
                SpaceStatus(
                    space: status.space.id, name: status.space.name, kind: status.space.kind, unsyncedChanges: status.unsyncedChanges,
                    lastSync: status.lastSync.map { Output.time($0) }, unverifiableChanges: status.unverifiableChanges,
                    waitingChanges: status.waitingChanges)
            }
            let certificate = try replica.deviceCertificate()
            let member = certificate.map {
                Member(id: EntityID($0.member), name: $0.memberName, school: EntityID($0.school), schoolName: $0.schoolName)
            }
            let fingerprint = try replica.serverKeyRing()?.newestKey.fingerprint
            let result = Result(
                replica: global.replicaPath, replicaID: replica.id.description, server: config?.server, serverKeyFingerprint: fingerprint,
                member: member, spaces: rows)
            try global.emit(
                result,
                "replica \(result.replica) (\(result.replicaID))\nserver \(config?.server ?? "(not logged in)")\n"
                    + (fingerprint.map { "server key fingerprint \($0)\n" } ?? "")
                    + (member.map { "logged in as \(Terminal.line($0.name)), \(Terminal.line($0.schoolName))\n" } ?? "")
                    + Output.table(
                        ["SPACE", "KIND", "ID", "NOT ON SERVER", "LAST SYNC"],
                        zip(rows, statuses).map { row, status in
                            [
                                row.name ?? NamedSpace.notInDirectory, row.kind?.rawValue ?? "-", row.space.description,
                                "\(row.unsyncedChanges)",
                                status.lastSync.map { global.dates.time($0) } ?? "never",
                            ]
                        })
                    + Output.heldBack(
                        unverifiable: rows.reduce(0) { $0 + $1.unverifiableChanges }, waiting: rows.reduce(0) { $0 + $1.waitingChanges }))
        }
    }
}
