import DialogueServer
import DialogueTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Why a test cannot set up; thrown so the test fails with a message saying what to do.
struct SetupFailure: Error, CustomStringConvertible {
    var description: String
}

/// The package's root directory (this file is Tests/DialogueClientTests/…).
func packageRoot(_ file: String = #filePath) -> URL {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// A built executable of this package.
func builtBinary(_ name: String) throws -> String {
    let path = packageRoot().appendingPathComponent(".build/debug/\(name)").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw SetupFailure(description: "\(path) is missing: build it first with `swift build --build-tests`")
    }
    return path
}

/// A temporary directory removed when the value goes away.
final class Scratch: Sendable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-client-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

struct Run: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The environment for child processes: ours without DIALOGUE_* settings or a terminal width.
func childEnvironment(home: String) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DIALOGUE_") && $0.key != "COLUMNS" }
    environment["HOME"] = home
    environment["XDG_DATA_HOME"] = home + "/data"
    return environment
}

/// How to start `executable` under `umask` (through `sh`, so the umask is the child's alone).
func withUmask(_ umask: String?, _ executable: String, _ arguments: [String]) -> (String, [String]) {
    guard let umask else { return (executable, arguments) }
    return ("/bin/sh", ["-c", "umask \(umask) && exec \"$0\" \"$@\"", executable] + arguments)
}

/// Runs a program to completion, output captured in files, stdin from `input` (or nothing),
/// under `umask` when given.
func run(_ executable: String, _ arguments: [String], input: String? = nil, home: String, umask: String? = nil) async throws -> Run {
    let (executable, arguments) = withUmask(umask, executable, arguments)
    let scratch = Scratch()
    let outPath = scratch.path("out")
    let errPath = scratch.path("err")
    let inPath = scratch.path("in")
    FileManager.default.createFile(atPath: outPath, contents: nil)
    FileManager.default.createFile(atPath: errPath, contents: nil)
    FileManager.default.createFile(atPath: inPath, contents: Data((input ?? "").utf8))
    let status = try await ChildProcesses.run(
        executable, arguments, environment: childEnvironment(home: home), stdin: input == nil ? "/dev/null" : inPath,
        stdout: outPath, stderr: errPath)
    return Run(
        status: status, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// One leader's replica, driven through the `dialogue-client` binary.
struct Leader: Sendable {
    let replica: String
    let home: String

    init(_ name: String, in scratch: Scratch) {
        self.init(replica: scratch.path("\(name).sqlite"), home: scratch.path("home-\(name)"))
    }

    /// A leader whose replica is at `replica` (its folder is left for `init` to create).
    init(replica: String, home: String) {
        self.replica = replica
        self.home = home
        try? FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    /// Runs `dialogue-client ARGS --replica …` (under `umask` when given).
    func client(_ arguments: [String], input: String? = nil, umask: String? = nil) async throws -> Run {
        try await run(try builtBinary("dialogue-client"), arguments + ["--replica", replica], input: input, home: home, umask: umask)
    }

    /// Runs a command that must succeed and returns its stdout.
    @discardableResult
    func ok(_ arguments: [String], input: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await client(arguments, input: input)
        #expect(
            result.status == 0, "dialogue-client \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a command with `--json` and decodes its output.
    func json(_ arguments: [String]) async throws -> Any {
        let output = try await ok(arguments + ["--json"])
        return try JSONSerialization.jsonObject(with: Data(output.utf8))
    }
}

/// A live `dialogue-server` on 127.0.0.1 with a partnership, two schools and a member with a token in each.
final class LiveServer: @unchecked Sendable {
    let process: Process
    let port: Int
    let sharedSpace: String
    /// The partnership's id (North Partnership, Hill and Vale its schools).
    let partnership: String
    let tokens: [String: String]
    let members: [String: String]
    let schools: [String: String]
    /// The server's data folder and home, for `admin` commands.
    let data: String
    let home: String
    var url: String { "http://127.0.0.1:\(port)" }

    private init(
        process: Process, port: Int, sharedSpace: String, partnership: String, tokens: [String: String], members: [String: String],
        schools: [String: String], data: String, home: String
    ) {
        self.partnership = partnership
        self.data = data
        self.home = home
        self.process = process
        self.port = port
        self.sharedSpace = sharedSpace
        self.tokens = tokens
        self.members = members
        self.schools = schools
    }

    static func admin(_ arguments: [String], data: String, home: String) async throws -> [String: Any] {
        let result = try await run(try builtBinary("dialogue-server"), ["admin"] + arguments + ["--data-dir", data, "--json"], home: home)
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw SetupFailure(description: "dialogue-server admin \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        return object
    }

    /// Starts a server with its own store (`name` names its folder; another name is another
    /// store, so another key), on `port` when given (another server on the same URL).
    static func start(in scratch: Scratch, name: String = "server", port: Int? = nil) async throws -> LiveServer {
        let data = scratch.path("\(name)-data")
        let home = scratch.path("home-\(name)")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let partnership = try await admin(["create-partnership", "--name", "North Partnership"], data: data, home: home)
        let partnershipID = partnership["id"] as! String
        var tokens: [String: String] = [:]
        var members: [String: String] = [:]
        var schools: [String: String] = [:]
        for name in ["hill", "vale"] {
            let school = try await admin(
                ["create-school", "--name", "\(name.capitalized) School", "--partnership", partnershipID], data: data, home: home)
            schools[name] = school["id"] as? String
            let member = try await admin(
                ["create-member", "--name", "Leader at \(name)", "--school", school["id"] as! String], data: data, home: home)
            members[name] = member["id"] as? String
            let issued = try await admin(["issue-token", "--member", member["id"] as! String], data: data, home: home)
            tokens[name] = issued["token"] as? String
        }
        let (process, port) = try await serveOnFreePort(data: data, home: home, port: port, log: scratch.path("\(name).log"))
        return LiveServer(
            process: process, port: port, sharedSpace: partnership["sharedSpace"] as! String, partnership: partnershipID, tokens: tokens,
            members: members,
            schools: schools, data: data, home: home)
    }

    /// ``serve(data:home:port:log:wait:)`` on `port`, or on a free port: a port found free
    /// can be taken by another process (a client's ephemeral port, another test's server)
    /// before the server binds it, so an "Address already in use" start is tried again on
    /// another port, up to five times.
    static func serveOnFreePort(data: String, home: String, port: Int?, log: String) async throws -> (Process, Int) {
        if let port { return (try await serve(data: data, home: home, port: port, log: log), port) }
        for attempt in 1...5 {
            let candidate = try freeTCPPort()
            do {
                return (try await serve(data: data, home: home, port: candidate, log: log), candidate)
            } catch let failure as SetupFailure where attempt < 5 && failure.description.contains("Address already in use") {
                continue
            }
        }
        throw SetupFailure(description: "unreachable: the last attempt throws")
    }

    /// Runs `dialogue-server serve` over `data` on `port` (output to `log`) and waits, bounded
    /// by `wait`, until it answers /health; otherwise stops it and throws with the log.
    static func serve(data: String, home: String, port: Int, log: String, wait: Duration = .seconds(120)) async throws -> Process {
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtBinary("dialogue-server"))
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "\(port)", "--data-dir", data, "--log-level", "warning"]
        process.environment = childEnvironment(home: home)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try ChildProcesses.launch(process)
        try? handle.close()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 1
        let session = URLSession(configuration: configuration)
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline, process.isRunning {
            if let (_, response) = try? await session.data(from: URL(string: "http://127.0.0.1:\(port)/health")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return process
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        throw SetupFailure(
            description:
                "dialogue-server did not answer /health within \(wait):\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()  // so its port is free for another server
        }
    }

    /// The server key's fingerprint as `dialogue-server admin server-key` prints it.
    func serverKeyFingerprint() async throws -> String {
        let key = try await Self.admin(["server-key"], data: data, home: home)
        guard let fingerprint = key["fingerprint"] as? String else { throw SetupFailure(description: "admin server-key: \(key)") }
        return fingerprint
    }

    deinit { stop() }
}

extension Leader {
    /// Logs in to a throwaway scripted registrar (so the replica has a device certificate
    /// and a pinned server key: sync needs a login), then writes the login file for `server`
    /// as `login` would have: for tests of `sync` against a scripted server that plays no
    /// registration.
    func storeLogin(server: String, token: String = "dlg_scripted_token", allowInsecureHTTP: Bool = false) async throws {
        let registrar = try ScriptedRegistrar(.init(memberName: "Ada Leader", schoolName: "Hill Primary"))
        let tokenFile = home + "/scripted.token"
        try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let login = try await client(["login", "--server", registrar.url, "--token-file", tokenFile])
        registrar.server.stop()
        guard login.status == 0 else { throw SetupFailure(description: "login to the scripted registrar failed: \(login.stderr)") }
        try await writeLogin(server: server, token: token, allowInsecureHTTP: allowInsecureHTTP)
    }

    /// Writes the login file alone (no device registered, no key pinned).
    func writeLogin(server: String, token: String = "dlg_scripted_token", allowInsecureHTTP: Bool = false) async throws {
        var login: [String: Any] = ["server": server, "token": token, "serverHas": [String: Any]()]
        if allowInsecureHTTP { login["allowInsecureHTTP"] = true }
        try JSONSerialization.data(withJSONObject: login).write(to: URL(fileURLWithPath: replica + ".login.json"))
    }
}
