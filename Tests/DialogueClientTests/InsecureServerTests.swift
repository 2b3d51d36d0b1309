import DialogueTestSupport
import Foundation
import Testing

/// `login` and `sync` refuse plain http:// to another machine unless `--allow-insecure-http`
/// is given (stored with the login), and refuse ports outside 1-65535.
@Suite("Plain http:// to another machine")
struct InsecureServerTests {
    static func setUp(_ scratch: Scratch) async throws -> (Leader, String) {
        let leader = Leader("hill", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        let tokenFile = scratch.path("token")
        try "dlg_secret_token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        return (leader, tokenFile)
    }

    @Test(
        "login refuses http:// to a host that is not loopback, and stores nothing",
        arguments: ["http://dialogue.example.org", "http://192.0.2.10:8080", "http://[2001:db8::5]", "http://0.0.0.0:8080"])
    func loginRefusesInsecureHTTP(server: String) async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        let result = try await leader.client(["login", "--server", server, "--token-file", tokenFile])
        #expect(result.status == 64)
        #expect(result.stderr.contains("unencrypted") && result.stderr.contains("--allow-insecure-http"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: leader.replica + ".login.json"))
    }

    @Test(
        "login refuses a port outside 1-65535 (no wrapping to another port)",
        arguments: ["http://127.0.0.1:99999", "http://127.0.0.1:65536", "https://dialogue.example.org:0", "http://127.0.0.1:-1"])
    func loginRefusesBadPorts(server: String) async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        let result = try await leader.client(["login", "--server", server, "--token-file", tokenFile])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: --server: invalid server URL"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: leader.replica + ".login.json"))
    }

    @Test("https:// and loopback http:// need no flag: login goes on to contact the server")
    func secureAndLoopbackAreAccepted() async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        let registrar = try ScriptedRegistrar(.init(memberName: "Ada Leader", schoolName: "Hill Primary"))
        for server in ["http://127.0.0.1:\(registrar.port)", "http://localhost:\(registrar.port)"] {
            let result = try await leader.client(["login", "--server", server, "--token-file", tokenFile])
            #expect(result.status == 0, "\(server): \(result.stderr)")
            #expect(result.stderr.isEmpty)
        }
        // Nothing listens there: accepted as an address, then unreachable (not refused as insecure).
        let closed = try freeTCPPort()
        for server in ["https://127.0.0.1:\(closed)", "http://[::1]:\(closed)"] {
            let result = try await leader.client(["login", "--server", server, "--token-file", tokenFile])
            #expect(result.status == 69 && result.stderr.contains("cannot reach"), "\(server): \(result.stderr)")
            #expect(!result.stderr.contains("--allow-insecure-http"))
        }
    }

    @Test("--allow-insecure-http at login is stored, warned about, and lets later syncs through")
    func allowedAtLoginIsRemembered() async throws {
        let scratch = Scratch()
        let (leader, tokenFile) = try await Self.setUp(scratch)
        // 0.0.0.0 is not loopback by the rule, yet reaches this machine: a stand-in for a LAN
        // server. It registers the device, then refuses the token at sync.
        let registrar = try ScriptedRegistrar(.init(memberName: "Ada Leader", schoolName: "Hill Primary")) { _ in
            .init(status: 401, body: Array(#"{"error":{"code":"unauthorized","message":"no"}}"#.utf8))
        }
        let server = registrar.server
        let url = "http://0.0.0.0:\(server.port)"
        let login = try await leader.client(["login", "--server", url, "--token-file", tokenFile, "--allow-insecure-http", "--json"])
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stderr.contains("warning: plain http://"))
        let stored = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: leader.replica + ".login.json"))) as? [String: Any]
        )
        #expect(stored["allowInsecureHTTP"] as? Bool == true)
        let sync = try await leader.client(["sync", "--attempts", "1"])
        #expect(sync.status == 69)  // the scripted server refuses the token: the request was sent
        #expect(server.requests.map(\.path) == ["/v1/devices", "/v1/sync"])
    }

    @Test("a login stored without the flag (an older version) is refused at sync, unless sync is given the flag")
    func syncRefusesStoredInsecureLogin() async throws {
        let scratch = Scratch()
        let (leader, _) = try await Self.setUp(scratch)
        let server = try ScriptedHTTPServer { _ in
            .init(status: 401, body: Array(#"{"error":{"code":"unauthorized","message":"no"}}"#.utf8))
        }
        try await leader.storeLogin(server: server.url)  // logged in (device registered, key pinned) …
        // … by a version that stored no allowInsecureHTTP record.
        let login = #"{"server":"http://0.0.0.0:\#(server.port)","token":"dlg_secret_token","serverHas":{}}"#
        try login.write(toFile: leader.replica + ".login.json", atomically: true, encoding: .utf8)
        let refused = try await leader.client(["sync", "--attempts", "1"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--allow-insecure-http"), "\(refused.stderr)")
        #expect(server.requests.isEmpty, "the token was sent over plain http")
        let allowed = try await leader.client(["sync", "--attempts", "1", "--allow-insecure-http"])
        #expect(allowed.status == 69)
        #expect(server.requests.count == 1)
    }
}
