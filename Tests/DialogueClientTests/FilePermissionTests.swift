import DialogueTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Files at rest hold notes about colleagues and pupils: under umask 022 (the usual one,
/// which makes files 0644 and folders 0755) every file the binaries create is 0600 and
/// every folder they create 0700. The binaries run under `sh -c 'umask 022; exec …'`, so
/// the umask is the child's, whatever the test process's is.
@Suite("Files at rest are private")
struct FilePermissionTests {
    static func mode(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "missing" }
        return String(info.st_mode & 0o7777, radix: 8)
    }

    /// Opens once set; a scripted server's answer waits for it (bounded).
    final class Gate: Sendable {
        private let opened = Atomic<Bool>(false)
        func open() { opened.store(true, ordering: .releasing) }
        func wait() {
            let deadline = ContinuousClock.now + .seconds(20)
            while !opened.load(ordering: .acquiring), ContinuousClock.now < deadline { usleep(10_000) }
        }
    }

    @Test("a replica, its -wal and -shm, and the folders made for it are 0600/0700 under umask 022")
    func replicaFilesArePrivate() async throws {
        let scratch = Scratch()
        let folder = scratch.path("new/folders")
        let leader = Leader(replica: folder + "/replica.sqlite", home: scratch.path("home"))
        let created = try await leader.client(["init", "--space", UUID().uuidString], umask: "022")
        #expect(created.status == 0, "\(created.stderr)")
        try await leader.ok(["sessions", "create", "--title", "Private notes"])
        #expect(Self.mode(scratch.path("new")) == "700")
        #expect(Self.mode(folder) == "700")
        #expect(Self.mode(leader.replica) == "600")
        // While a sync waits on the server, the replica is open: its -wal and -shm exist.
        let gate = Gate()
        let registrar = try ScriptedRegistrar(.init(memberName: "Ada Leader", schoolName: "Hill Primary")) { _ in
            gate.wait()
            return .init(status: 401, body: Array(#"{"error":{"code":"unauthorized","message":"no"}}"#.utf8))
        }
        let server = registrar.server
        let tokenFile = scratch.path("token")
        try "dlg_token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let login = try await leader.client(["login", "--server", server.url, "--token-file", tokenFile], umask: "022")
        #expect(login.status == 0, "\(login.stderr)")
        #expect(Self.mode(leader.replica + ".login.json") == "600")
        async let sync = leader.client(["sync", "--attempts", "1"], umask: "022")
        let deadline = ContinuousClock.now + .seconds(20)
        let synced = { server.requests.contains { $0.path == "/v1/sync" } }
        while !synced(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(synced(), "the sync never reached the server")
        #expect(Self.mode(leader.replica + "-wal") == "600")
        #expect(Self.mode(leader.replica + "-shm") == "600")
        gate.open()
        #expect(try await sync.status == 69)
    }

    @Test("bundles and exports are 0600 under umask 022")
    func exportsArePrivate() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)  // a bundle is signed: its writer has logged in
        defer { server.stop() }
        let leader = try await server.loggedInLeader("hill", in: scratch)
        let space = server.sharedSpace
        let session = try await leader.ok(["sessions", "create", "--title", "Private notes"])
        let bundle = scratch.path("out.bundle")
        #expect(try await leader.client(["bundle", "export", bundle], umask: "022").status == 0)
        #expect(Self.mode(bundle) == "600")
        for format in ["markdown", "json", "csv"] {
            let file = scratch.path("minutes.\(format)")
            #expect(try await leader.client(["export", "--session", session, "--format", format, "-o", file], umask: "022").status == 0)
            #expect(Self.mode(file) == "600")
        }
        // An export replacing a readable file leaves it private too.
        let existing = scratch.path("space.json")
        FileManager.default.createFile(atPath: existing, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644])
        #expect(try await leader.client(["export", "--space", space, "-o", existing], umask: "022").status == 0)
        #expect(Self.mode(existing) == "600")
    }

    @Test("an existing replica readable by others is tightened on open, and the client says so")
    func looseReplicaIsTightened() async throws {
        let scratch = Scratch()
        let leader = Leader("hill", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        try await leader.ok(["sessions", "create", "--title", "Private notes"])
        chmod(leader.replica, 0o644)
        // A -wal left world-readable by an older version (SQLite reuses an existing one as it is).
        if !FileManager.default.fileExists(atPath: leader.replica + "-wal") {
            FileManager.default.createFile(atPath: leader.replica + "-wal", contents: Data())
        }
        chmod(leader.replica + "-wal", 0o666)
        let result = try await leader.client(["sessions", "list"], umask: "022")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Private notes"))
        #expect(Self.mode(leader.replica) == "600")
        #expect(["600", "missing"].contains(Self.mode(leader.replica + "-wal")))
        #expect(result.stderr.contains("made a replica file private") && result.stderr.contains("mode 644"), "\(result.stderr)")
    }

    /// Starts `dialogue-server serve` under umask 022 and waits (bounded) until its store is
    /// open: the store, its -wal and its -shm exist. No port or HTTP is needed for that.
    static func serve(data: String, scratch: Scratch) async throws -> pid_t {
        let port = try freeTCPPort()
        let (executable, arguments) = withUmask(
            "022", try builtBinary("dialogue-server"),
            ["serve", "--host", "127.0.0.1", "--port", "\(port)", "--data-dir", data, "--log-level", "warning"])
        let log = scratch.path("server.log")
        let pid = try ChildProcesses.spawn(
            executable, arguments, environment: childEnvironment(home: scratch.path("home")), stdin: "/dev/null", stdout: log,
            stderr: log)
        let store = data + "/dialogue-server.sqlite"
        // Generous: the full suite starts many processes at once on a small machine.
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            if ["", "-wal", "-shm"].allSatisfy({ FileManager.default.fileExists(atPath: store + $0) }) { return pid }
            if let exit = ChildProcesses.exitIfEnded(pid) {
                throw SetupFailure(
                    description: "dialogue-server exited (\(exit)): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        throw SetupFailure(
            description: "dialogue-server did not open its store: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    @Test("the server's data folder, store, -wal and -shm are 0700/0600 under umask 022")
    func serverStoreIsPrivate() async throws {
        let scratch = Scratch()
        let data = scratch.path("srv/data")
        try FileManager.default.createDirectory(atPath: scratch.path("home"), withIntermediateDirectories: true)
        let pid = try await Self.serve(data: data, scratch: scratch)
        defer { kill(pid, SIGKILL) }
        let store = data + "/dialogue-server.sqlite"
        #expect(Self.mode(scratch.path("srv")) == "700")
        #expect(Self.mode(data) == "700")
        #expect(Self.mode(store) == "600")
        #expect(Self.mode(store + "-wal") == "600")
        #expect(Self.mode(store + "-shm") == "600")
        kill(pid, SIGTERM)
        _ = await ChildProcesses.waitForExit(pid)
    }

    @Test("an existing server store readable by others is tightened when the server opens it")
    func looseServerStoreIsTightened() async throws {
        let scratch = Scratch()
        let data = scratch.path("data")
        let home = scratch.path("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let created = try await run(
            try builtBinary("dialogue-server"), ["admin", "create-partnership", "--name", "North", "--data-dir", data], home: home,
            umask: "022")
        #expect(created.status == 0, "\(created.stderr)")
        let store = data + "/dialogue-server.sqlite"
        #expect(Self.mode(store) == "600")
        chmod(store, 0o644)
        let listed = try await run(try builtBinary("dialogue-server"), ["admin", "list", "--data-dir", data], home: home, umask: "022")
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(Self.mode(store) == "600")
        #expect(listed.stderr.contains("made a store file private"), "\(listed.stderr)")
    }
}
