import Foundation
import Testing

/// `dialogue-server admin rotate-key` while replicas are logged in (issue 12's key-rotation
/// test): the logged-in replica keeps syncing (it follows the endorsement), a replica that
/// logs in after the rotation verifies what was certified before it, and each verifies the
/// other's changes.
@Suite("Key rotation while logged in (live server, dialogue-client)")
struct RotationSyncTests {
    @Test("after rotate-key, Ada (logged in before) and Vale's leader (logged in after) keep syncing and receive each other's sessions")
    func rotationKeepsSyncing() async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        func login(_ leader: Leader, _ name: String) async throws {
            let tokenFile = scratch.path("\(name).token")
            try server.tokens[name]!.write(toFile: tokenFile, atomically: true, encoding: .utf8)
            try await leader.ok(["login", "--server", server.url, "--token-file", tokenFile])
        }
        let ada = Leader("ada", in: scratch)
        try await ada.ok(["init", "--space", server.sharedSpace])
        try await login(ada, "hill")
        try await ada.ok(["sessions", "create", "--title", "Before the rotation"])
        try await ada.ok(["sync"])
        let before = try await server.serverKeyFingerprint()

        _ = try await LiveServer.admin(["rotate-key"], data: server.data, home: server.home)
        let after = try await server.serverKeyFingerprint()
        #expect(after != before)

        // Ada, pinned to the old key, keeps syncing.
        try await ada.ok(["sessions", "create", "--title", "After the rotation, by Ada"])
        try await ada.ok(["sync"])
        // Vale's leader logs in after the rotation (certified by the new key).
        let vale = Leader("vale", in: scratch)
        try await vale.ok(["init", "--space", server.sharedSpace])
        try await login(vale, "vale")
        try await vale.ok(["sync"])
        let valeSees = try await vale.ok(["sessions", "list"])
        #expect(valeSees.contains("Before the rotation") && valeSees.contains("After the rotation, by Ada"), "\(valeSees)")
        try await vale.ok(["sessions", "create", "--title", "Written by Vale after the rotation"])
        try await vale.ok(["sync"])
        try await ada.ok(["sync"])
        let adaSees = try await ada.ok(["sessions", "list"])
        #expect(adaSees.contains("Written by Vale after the rotation"), "\(adaSees)")
    }
}
