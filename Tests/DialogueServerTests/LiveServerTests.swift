import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// The real `dialogue-server` binary: set up with `admin`, served with `serve`, stopped with SIGTERM.
@Suite("Live server process")
struct LiveServerTests {
    @Test(
        "two replicas converge through the real server; SIGTERM lets the request in flight finish and exits 0",
        arguments: StoreKind.allCases)
    func convergeAndStop(_ kind: StoreKind) async throws {
        let directory = ServerTestDirectory()
        let database = kind == .postgres ? try await PostgresTestDatabase.create() : nil
        let storeArguments = database.map { ["--database", $0.url] } ?? ["--data-dir", directory.path("data")]
        do {
            let accounts = try await LiveAccounts.create(storeArguments)
            try await withServers(1, storeArguments, directory) { servers in
                let server = servers[0]
                // Two schools' replicas edit the shared space and sync through the server.
                let space = accounts.sharedSpace
                let hill = try Replica(path: directory.path("hill.sqlite"))
                let vale = try Replica(path: directory.path("vale.sqlite"))
                try await hill.addSpace(space)
                try await vale.addSpace(space)
                let hillClient = try await loggedIn(hill, to: server.url, token: accounts.tokens["hill"]!)
                let valeClient = try await loggedIn(vale, to: server.url, token: accounts.tokens["vale"]!)
                let session = try await hill.edit(in: space) { editor in
                    let session = try editor.createSession(title: "Feedback that moves learning on")
                    try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "Hill's notes.")
                    return session
                }
                try await vale.edit(in: space) { editor in _ = try editor.createSession(title: "Vale's session") }
                try await hillClient.sync(hill)
                try await valeClient.sync(vale)
                // Concurrent edits of the same session, then sync both ways.
                try await vale.edit(in: space) { editor in
                    try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "Vale: ")
                    try editor.set(DialogueSession.Field.title, of: session, to: .string("Vale's title"))
                }
                try await hill.edit(in: space) { editor in
                    try editor.editText(DialogueSession.Field.summary, of: session, at: 13, insert: " More.")
                }
                try await hillClient.sync(hill)
                try await valeClient.sync(vale)
                try await hillClient.sync(hill)
                let hillDocument = try #require(await hill.document(space))
                let valeDocument = try #require(await vale.document(space))
                #expect(hillDocument.canonicalExport() == valeDocument.canonicalExport())
                #expect(hillDocument.vector == valeDocument.vector)
                let summary = hillDocument.text(DialogueSession.Field.summary, of: session)
                #expect(summary.contains("Vale: ") && summary.contains("Hill's notes.") && summary.contains(" More."), "\(summary)")
                #expect(hillDocument.entities.count == 2)

                // A request in flight when SIGTERM arrives completes; then the server exits 0.
                var author = ChangeAuthor(space: space)
                let pushed = author.creates(1)
                let body = try encodeJSON(
                    try await TestDevices().signed(
                        RouteHarness.push(pushed, to: space), server: server.url, token: accounts.tokens["hill"]!))
                let connection = try RawConnection(port: server.port)
                try connection.send(
                    Array(
                        ("POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(accounts.tokens["hill"]!)\r\n"
                            + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n").utf8)
                        + body.prefix(body.count / 2))
                try await Task.sleep(for: .milliseconds(300))
                server.signal(SIGTERM)
                // No new connections while draining (allow the signal a moment to arrive).
                var refused = false
                for _ in 0..<30 where !refused {
                    refused = (try? RawConnection(port: server.port)) == nil
                    if !refused { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(refused, "the server still accepts connections 3 s after SIGTERM")
                #expect(server.isRunning, "the server quit before finishing the request in flight\n\(server.log)")
                try connection.send(Array(body.dropFirst(body.count / 2)))
                let answer = String(decoding: try await connection.receiveAll(timeout: 10), as: UTF8.self)
                #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)\n\(server.log)")
                #expect(answer.contains(#""accepted":1"#), "\(answer)")
                let status = try await server.waitForExit(timeout: .seconds(10))
                #expect(status == 0, "exit status \(status)\n\(server.log)")
                #expect(server.log.contains("stopped"), "\(server.log)")
                // What the in-flight request stored is there for the next start.
                let store: any SyncStore =
                    if let database {
                        try await PostgresSyncStore.connect(
                            url: database.url, logger: quietLogger("live.check"), timeout: postgresTestTimeout)
                    } else {
                        try SQLiteSyncStore(path: directory.path("data/dialogue-server.sqlite"))
                    }
                #expect(try await store.vector(of: space)[author.replica] == 1)
                #expect(try await store.vector(of: space).merged(hillDocument.vector) == (try await store.vector(of: space)))
                try await store.close()
            }
        } catch {
            await database?.drop()
            throw error
        }
        await database?.drop()
    }

    @Test("bad flags: a port out of range, a zero limit, a non-postgres --database are refused with a message and exit 64")
    func badFlags() async throws {
        let directory = ServerTestDirectory()
        for (arguments, message) in [
            (["--port", "70000"], "--port must be between 1 and 65535"),
            (["--cached-spaces", "0"], "limits must be positive"),
            (["--max-changes", "0"], "limits must be positive"),
            (["--database", "mysql://db/dialogue"], "--database must be a postgres:// URL"),
        ] {
            let result = try await runProcess(try serverBinary(), ["serve", "--data-dir", directory.path("data")] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        // The environment's database URL (with its password) never shows in --help.
        let help = try await runProcess(
            try serverBinary(), ["serve", "--help"],
            environment: ProcessInfo.processInfo.environment.merging(["DIALOGUE_DATABASE": "postgres://u:secret@db/x"]) { $1 })
        #expect(help.status == 0 && help.stdout.contains("--cached-spaces") && !help.stdout.contains("secret"))
    }

    @Test("a server restored from an older backup: a replica that synced before still gets what is stored after the restore")
    func restoredFromBackup() async throws {
        let directory = ServerTestDirectory()
        let data = directory.path("data")
        let backup = directory.path("backup")
        let store = ["--data-dir", data]
        let accounts = try await LiveAccounts.create(store)
        let space = accounts.sharedSpace
        let port = try freeTCPPort()
        func serve(_ name: String) async throws -> ServerProcess {
            try await ServerProcess.start(store, directory: directory, name: name, port: port)
        }
        func stop(_ server: ServerProcess) async throws {
            server.signal(SIGTERM)
            #expect(try await server.waitForExit(timeout: .seconds(10)) == 0)
        }
        let url = URL(string: "http://127.0.0.1:\(port)")!
        let writer = try Replica(path: directory.path("writer.sqlite"))
        let reader = try Replica(path: directory.path("reader.sqlite"))
        let latecomer = try Replica(path: directory.path("latecomer.sqlite"))
        for replica in [writer, reader, latecomer] { try await replica.addSpace(space) }
        let hill = SyncClient(configuration: .init(server: url, token: accounts.tokens["hill"]!))
        let vale = SyncClient(configuration: .init(server: url, token: accounts.tokens["vale"]!))
        var server = try await serve("before-backup")
        do {
            _ = try await hill.registerDevice(writer)
            for replica in [reader, latecomer] { _ = try await vale.registerDevice(replica) }
            try await writer.edit(in: space) { editor in _ = try editor.createSession(title: "Before the backup") }
            try await hill.sync(writer)
            try await stop(server)
            try FileManager.default.copyItem(atPath: data, toPath: backup)
            server = try await serve("after-backup")
            try await writer.edit(in: space) { editor in
                for n in 0..<3 { _ = try editor.createSession(title: "After the backup \(n)") }
            }
            try await hill.sync(writer)
            try await vale.sync(reader)  // the reader now holds everything, and the server's position
            try await stop(server)
            // Disaster: the server's data is restored from the backup, on the same address.
            try FileManager.default.removeItem(atPath: data)
            try FileManager.default.copyItem(atPath: backup, toPath: data)
            server = try await serve("restored")
            try await latecomer.edit(in: space) { editor in _ = try editor.createSession(title: "After the restore") }
            try await vale.sync(latecomer)
            try await hill.sync(writer)  // re-sends what the restore lost
            try await vale.sync(reader)
            try await hill.sync(writer)
            try await vale.sync(latecomer)
            // The latecomer synced last, after everyone else's changes were back on the server.
            let latecomerDocument = try #require(await latecomer.document(space))
            #expect(latecomerDocument.entities.count == 5)
            for (name, replica) in [("writer", writer), ("reader", reader)] {
                let document = try #require(await replica.document(space))
                let lacking = document.vector.missing(from: latecomerDocument.vector).map { "\($0.replica)@\($0.counters)" }
                let converged = document.canonicalExportText() == latecomerDocument.canonicalExportText()
                #expect(converged, "the \(name) lacks \(lacking) (it has \(document.entities.count) of 5 sessions)")
            }
            try await stop(server)
        } catch {
            server.kill()
            throw error
        }
    }

    @Test("two server processes over one PostgreSQL database: replicas syncing through different ones converge")
    func twoServersOnePostgres() async throws {
        let directory = ServerTestDirectory()
        let database = try await PostgresTestDatabase.create()
        let storeArguments = ["--database", database.url]
        do {
            let accounts = try await LiveAccounts.create(storeArguments)
            try await withServers(2, storeArguments, directory) { servers in
                let space = accounts.sharedSpace
                // Three replicas: one through the first server, two through the second.
                let plan = [(servers[0], "hill"), (servers[1], "vale"), (servers[1], "hill")]
                var replicas: [Replica] = []
                var clients: [SyncClient] = []
                for (index, (server, token)) in plan.enumerated() {
                    let replica = try Replica(path: directory.path("replica-\(index).sqlite"))
                    try await replica.addSpace(space)
                    var configuration = SyncClient.Configuration(server: server.url, token: accounts.tokens[token]!)
                    configuration.pushBatch = 7  // many small requests, so the servers interleave their appends
                    configuration.pageSize = 11
                    replicas.append(replica)
                    let client = SyncClient(configuration: configuration)
                    _ = try await client.registerDevice(replica)
                    clients.append(client)
                }
                for (index, replica) in replicas.enumerated() {
                    try await replica.edit(in: space) { editor in
                        for n in 0..<15 {
                            let session = try editor.createSession(title: "Session \(n) of replica \(index)")
                            try editor.editText(DialogueSession.Field.summary, of: session, at: 0, insert: "Notes \(n).")
                        }
                    }
                }
                // Everyone syncs at once, through both servers.
                let failures = await withTaskGroup(of: SyncClientError?.self) { group in
                    for (replica, client) in zip(replicas, clients) {
                        group.addTask {
                            do {
                                try await client.sync(replica)
                                return nil
                            } catch let error as SyncClientError {
                                return error
                            } catch {
                                return .unreachable("\(error)")
                            }
                        }
                    }
                    var failures: [SyncClientError] = []
                    for await case let failure? in group { failures.append(failure) }
                    return failures
                }
                for failure in failures { Issue.record("concurrent sync failed: \(failure)") }
                // Then rounds until everyone has heard everything.
                for _ in 0..<2 {
                    for (replica, client) in zip(replicas, clients) { try await client.sync(replica) }
                }
                var exports: [[UInt8]] = []
                for replica in replicas { exports.append(try #require(await replica.document(space)).canonicalExport()) }
                #expect(exports.allSatisfy { $0 == exports[0] })
                let document = try #require(await replicas[0].document(space))
                #expect(document.entities.count == 45)
                #expect(document.vector.counters.count == 3)
                // Both servers report the same holdings.
                var held: [VersionVector] = []
                for server in servers {
                    let response = try await postSync(
                        server.url, token: accounts.tokens["hill"]!,
                        SyncRequest(replica: nil, spaces: [.init(space: space, have: document.vector)]))
                    held.append(try #require(response.spaces.first).serverHas.vector)
                }
                #expect(held == [document.vector, document.vector])
                for server in servers { server.signal(SIGTERM) }
                for server in servers {
                    let status = try await server.waitForExit(timeout: .seconds(10))
                    #expect(status == 0, "\(server.log)")
                }
            }
        } catch {
            await database.drop()
            throw error
        }
        await database.drop()
    }
}

// MARK: Support

/// The built server executable, found from this file's path.
func serverBinary() throws -> String {
    let path = packageRoot().appendingPathComponent(".build/debug/dialogue-server").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestSetupFailure(
            description: "\(path) is missing: build it first with `swift build` (scripts/test builds everything before testing)")
    }
    return path
}

/// POSTs a sync request with URLSession and decodes the 200 answer.
func postSync(_ server: URL, token: String, _ request: SyncRequest) async throws -> SyncResponse {
    var urlRequest = URLRequest(url: server.appendingPathComponent("v1/sync"))
    urlRequest.httpMethod = "POST"
    urlRequest.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
    urlRequest.httpBody = Data(try encodeJSON(request))
    let (data, response) = try await URLSession(configuration: .ephemeral).data(for: urlRequest)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard status == 200 else {
        throw TestSetupFailure(description: "POST /v1/sync answered \(status): \(String(decoding: data, as: UTF8.self))")
    }
    return try JSONDecoder().decode(SyncResponse.self, from: data)
}

/// The environment for child processes: ours without DIALOGUE_* settings that would change them.
func childEnvironment() -> [String: String] {
    ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DIALOGUE_") }
}

/// Accounts made with `dialogue-server admin … --json`: a partnership with two schools
/// (sharing on) and one member with a token in each.
struct LiveAccounts: Sendable {
    var sharedSpace: SpaceID
    var tokens: [String: String]
    var tokenIDs: [String: UUID] = [:]
    var members: [String: UUID] = [:]

    struct Issued: Decodable {
        var token: String
        var tokenID: UUID
        var member: UUID
    }

    static func admin<T: Decodable>(_ arguments: [String], _ store: [String], as type: T.Type) async throws -> T {
        let result = try await runProcess(
            try serverBinary(), ["admin"] + arguments + store + ["--json"], environment: childEnvironment())
        guard result.status == 0 else {
            throw TestSetupFailure(description: "dialogue-server admin \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
        do { return try JSONDecoder().decode(type, from: Data(result.stdout.utf8)) } catch {
            throw TestSetupFailure(description: "cannot read the --json output of admin \(arguments[0]): \(error)\n\(result.stdout)")
        }
    }

    static func create(_ store: [String]) async throws -> LiveAccounts {
        let partnership = try await admin(["create-partnership", "--name", "North Partnership"], store, as: PartnershipAccount.self)
        var tokens: [String: String] = [:]
        var tokenIDs: [String: UUID] = [:]
        var members: [String: UUID] = [:]
        for name in ["hill", "vale"] {
            let school = try await admin(
                ["create-school", "--name", "\(name.capitalized) School", "--partnership", partnership.id.uuidString], store,
                as: SchoolAccount.self)
            #expect(school.partnerships == [partnership.id])
            let member = try await admin(
                ["create-member", "--name", "Leader at \(name)", "--school", school.id.uuidString, "--role", "member"], store,
                as: MemberAccount.self)
            let issued = try await admin(["issue-token", "--member", member.id.uuidString, "--label", "test"], store, as: Issued.self)
            #expect(issued.member == member.id && issued.token.hasPrefix(Tokens.prefix))
            tokens[name] = issued.token
            tokenIDs[name] = issued.tokenID
            members[name] = member.id
        }
        return LiveAccounts(sharedSpace: partnership.sharedSpace, tokens: tokens, tokenIDs: tokenIDs, members: members)
    }
}

/// One `dialogue-server serve` process.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let logURL: URL

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }
    var isRunning: Bool { process.isRunning }
    /// Everything it logged (stderr and stdout).
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    private init(process: Process, port: Int, logURL: URL) {
        self.process = process
        self.port = port
        self.logURL = logURL
    }

    /// Starts the server on a free port and waits until /health answers: at most 120 s, since
    /// a full test run on two loaded cores can starve a starting debug server for many
    /// seconds (it returns as soon as the server answers).
    static func start(_ store: [String], directory: ServerTestDirectory, name: String, port fixed: Int? = nil) async throws -> ServerProcess
    {
        var lastLog = ""
        for attempt in 1...3 {
            let port = try fixed ?? freeTCPPort()
            let logURL = URL(fileURLWithPath: directory.path("\(name)-\(attempt).log"))
            FileManager.default.createFile(atPath: logURL.path, contents: nil)
            let handle = try FileHandle(forWritingTo: logURL)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try serverBinary())
            process.arguments = ["serve", "--host", "127.0.0.1", "--port", "\(port)"] + store
            process.environment = childEnvironment()
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try ChildProcesses.launch(process)
            try? handle.close()
            let server = ServerProcess(process: process, port: port, logURL: logURL)
            if try await server.waitUntilHealthy(timeout: .seconds(120)) { return server }
            lastLog = server.log
            server.kill()
            if fixed != nil || !lastLog.contains("in use") { break }  // only a port race is worth another try
        }
        throw TestSetupFailure(description: "dialogue-server did not answer /health within 120 s:\n\(lastLog)")
    }

    func waitUntilHealthy(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 1
        let session = URLSession(configuration: configuration)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { return false }
            if let (_, response) = try? await session.data(from: url.appendingPathComponent("health")),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func signal(_ signal: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
    }

    func kill() {
        signal(SIGKILL)
    }

    /// Waits for the process to end (SIGKILL after `timeout`) and returns its exit status.
    func waitForExit(timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill()
                throw TestSetupFailure(description: "dialogue-server did not stop within \(timeout) of SIGTERM\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(process.terminationReason == .exit, "ended by a signal, not an exit")
        return process.terminationStatus
    }
}

/// Runs `body` with `count` servers over the same store; kills any still running afterwards.
func withServers<T>(
    _ count: Int, _ store: [String], _ directory: ServerTestDirectory, _ body: ([ServerProcess]) async throws -> T
) async throws -> T {
    var servers: [ServerProcess] = []
    do {
        // Start them together: they migrate the same database at once.
        try await withThrowingTaskGroup(of: ServerProcess.self) { group in
            for index in 0..<count {
                group.addTask { try await ServerProcess.start(store, directory: directory, name: "server-\(index)") }
            }
            for try await server in group { servers.append(server) }
        }
        servers.sort { $0.port < $1.port }
        let result = try await body(servers)
        for server in servers { server.kill() }
        return result
    } catch {
        for server in servers { server.kill() }
        throw error
    }
}

/// A blocking TCP connection to 127.0.0.1, to hold a request open across a signal.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupFailure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestSetupFailure(description: "cannot connect to 127.0.0.1:\(port) (errno \(errno))")
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestSetupFailure(description: "send failed (errno \(errno))") }
            offset += sent
        }
    }

    /// Reads until the server closes the connection (or `timeout` seconds pass without data).
    func receiveAll(timeout: Int) async throws -> [UInt8] {
        let fd = fd
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var limit = timeval(tv_sec: timeout, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if count <= 0 { break }
                    received += buffer[0..<count]
                }
                continuation.resume(returning: received)
            }
        }
    }
}
