import Foundation
import Testing

/// `login` against the real `dialogue-server`: the fingerprint it prints is the one the
/// server's admin prints, another server on the same URL is refused loudly, a rotation is
/// followed, and a squatted replica id is refused with `replica_taken`.
@Suite("dialogue-client login against the real server")
struct LiveLoginTests {
    static func tokenFile(_ scratch: Scratch, _ server: LiveServer, _ name: String, as file: String? = nil) throws -> String {
        let path = scratch.path("\(file ?? name).token")
        try server.tokens[name]!.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(
        "login prints what `admin server-key` prints; another server on the same URL is refused and changes nothing; --replace-server-key accepts it"
    )
    func pinnedKey() async throws {
        let scratch = Scratch()
        var server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let hill = Leader("hill", in: scratch)
        try await hill.ok(["init", "--space", server.sharedSpace])
        let login = try await hill.ok(["login", "--server", server.url, "--token-file", try Self.tokenFile(scratch, server, "hill")])
        let pinned = try await server.serverKeyFingerprint()
        #expect(login.contains("server key fingerprint \(pinned)"), "\(login)")
        #expect(login.contains("logged in as Leader at hill, Hill School"), "\(login)")
        let stored = FileManager.default.contents(atPath: hill.replica + ".login.json")

        // Another server (another store, so another key) on the same URL.
        let port = server.port
        server.stop()
        server = try await LiveServer.start(in: scratch, name: "impostor", port: port)
        let impostor = try await server.serverKeyFingerprint()
        #expect(impostor != pinned)
        let token = try Self.tokenFile(scratch, server, "hill", as: "impostor-hill")
        let refused = try await hill.client(["login", "--server", server.url, "--token-file", token])
        #expect(refused.status == 69, "\(refused.stderr)")
        #expect(refused.stderr.contains("THE SERVER'S KEY HAS CHANGED"), "\(refused.stderr)")
        #expect(refused.stderr.contains(pinned) && refused.stderr.contains(impostor), "\(refused.stderr)")
        #expect(FileManager.default.contents(atPath: hill.replica + ".login.json") == stored, "the login file changed")
        #expect(try await hill.ok(["status"]).contains("server key fingerprint \(pinned)"))

        let replaced = try await hill.client(["login", "--server", server.url, "--token-file", token, "--replace-server-key", impostor])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try await hill.ok(["status"]).contains("server key fingerprint \(impostor)"))
    }

    @Test("after `admin rotate-key` on the running server, login follows the endorsement and prints the new fingerprint")
    func rotationFollowed() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let hill = Leader("hill", in: scratch)
        try await hill.ok(["init", "--space", server.sharedSpace])
        let token = try Self.tokenFile(scratch, server, "hill")
        try await hill.ok(["login", "--server", server.url, "--token-file", token])
        _ = try await LiveServer.admin(["rotate-key"], data: server.data, home: server.home)
        let rotated = try await server.serverKeyFingerprint()
        let login = try await hill.ok(["login", "--server", server.url, "--token-file", token])
        #expect(login.contains("server key fingerprint \(rotated)") && !login.contains("pinned now"), "\(login)")
    }

    @Test("a copy of Hill's replica logging in with Vale's token is refused (replica_taken, exit 69, what to do); Hill still syncs")
    func squattedReplicaRefused() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let hill = Leader("hill", in: scratch)
        try await hill.ok(["init", "--space", server.sharedSpace])
        try await hill.ok(["login", "--server", server.url, "--token-file", try Self.tokenFile(scratch, server, "hill")])
        try await hill.ok(["sessions", "create", "--title", "Written by Hill"])

        // Vale copies Hill's replica file (its id and its key) and logs in with Vale's own token.
        let squatter = Leader("squatter", in: scratch)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: hill.replica + suffix) {
            try FileManager.default.copyItem(atPath: hill.replica + suffix, toPath: squatter.replica + suffix)
        }
        let refused = try await squatter.client([
            "login", "--server", server.url, "--token-file", try Self.tokenFile(scratch, server, "vale"),
        ])
        #expect(refused.status == 69, "\(refused.stderr)")
        #expect(refused.stderr.contains("replica_taken") && refused.stderr.contains("dialogue-client init"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: squatter.replica + ".login.json"))

        // Hill is unaffected; a fresh replica of Vale's receives Hill's session.
        try await hill.ok(["sync"])
        let vale = Leader("vale", in: scratch)
        try await vale.ok(["init", "--space", server.sharedSpace])
        let login = try await vale.ok(["login", "--server", server.url, "--token-file", try Self.tokenFile(scratch, server, "vale")])
        #expect(login.contains("logged in as Leader at vale, Vale School"), "\(login)")
        try await vale.ok(["sync"])
        #expect(try await vale.ok(["sessions", "list"]).contains("Written by Hill"))
    }
}
