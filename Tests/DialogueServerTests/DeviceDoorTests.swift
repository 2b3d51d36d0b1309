import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// `POST /v1/devices` goes through the same door as `/v1/sync`: failed authentications are
/// rate-limited and audited, registrations count against the push limits, and a refused
/// claim on a replica id is audited.
@Suite("The door of /v1/devices")
struct DeviceDoorTests {
    static func register(
        _ h: RouteHarness, token: String?, replica: ReplicaID = .random(), key: PublicSigningKey? = nil
    ) async throws
        -> TestResponse
    {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(h.accounts.tokens[token] ?? token)" }
        let body = try encodeJSON(DeviceRegistrationRequest(replica: replica, publicKey: key ?? SigningKeyPair().publicKey))
        return try await h.client.execute(uri: "/v1/devices", method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    @Test("failed authentications on /v1/devices: 401 up to the address's limit, then 429 with Retry-After, even for a valid token")
    func failedAuthenticationsLimited() async throws {
        var limits = ServerLimits()
        limits.authFailuresPerAddress = RateLimit(4, per: .seconds(3600))
        limits.authFailuresPerToken = .off
        try await withRouteHarness(limits: limits) { h in
            for attempt in 0..<4 { try expectRefusal(try await Self.register(h, token: "dlg_wrong\(attempt)"), 401, .unauthorized) }
            let limited = try await Self.register(h, token: "hill-member")
            try expectRefusal(limited, 429, .rateLimited)
            #expect(limited.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
            #expect(try await h.store.devices().isEmpty)
        }
    }

    @Test("registrations count against the push limit of the token")
    func registrationsArePushes() async throws {
        var limits = ServerLimits()
        limits.pushesPerToken = RateLimit(3, per: .seconds(3600))
        try await withRouteHarness(limits: limits) { h in
            for _ in 0..<3 { #expect(try await Self.register(h, token: "hill-member").status == .ok) }
            try expectRefusal(try await Self.register(h, token: "hill-member"), 429, .rateLimited)
            #expect(try await h.store.devices().count == 3)
            #expect(try await Self.register(h, token: "vale-member").status == .ok)
        }
    }

    @Test("failed authentications and refused claims on /v1/devices are audited, never logging the token")
    func audited() async throws {
        let (logger, lines) = CapturingLogHandler.logger()
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        let server = SyncServer(service: SyncService(store: store, logger: logger), metrics: nil, logger: logger)
        let replica = ReplicaID.random()
        try await Application(router: server.router(), logger: logger).test(.router) { client in
            func post(_ token: String, key: PublicSigningKey) async throws -> TestResponse {
                let body = try encodeJSON(DeviceRegistrationRequest(replica: replica, publicKey: key))
                return try await client.execute(
                    uri: "/v1/devices", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: ByteBuffer(bytes: body))
            }
            #expect(try await post("dlg_0123456789SECRETSECRET", key: SigningKeyPair().publicKey).status == .unauthorized)
            #expect(try await post(accounts.tokens["hill-member"]!, key: SigningKeyPair().publicKey).status == .ok)
            try expectRefusal(try await post(accounts.tokens["vale-member"]!, key: SigningKeyPair().publicKey), 409, .replicaTaken)
        }
        try await store.close()
        let failures = lines.all.filter { $0.metadata["audit"] == "auth_failure" }
        #expect(failures.count == 1 && failures.first?.metadata["token.prefix"] == "dlg_0123")
        let claims = lines.all.filter { $0.metadata["audit"] == "replica_taken" }
        #expect(claims.count == 1)
        #expect(claims.first?.level == .warning && claims.first?.metadata["replica.id"] == "\(replica)")
        #expect(claims.first?.metadata["token.id"] == "\(accounts.tokenIDs["vale-member"]!)")
        #expect(!lines.all.contains { "\($0.message) \($0.metadata)".contains("SECRET") }, "a token reached the log")
        for name in ["hill-member", "vale-member"] {
            #expect(!lines.all.contains { "\($0.metadata)".contains(accounts.tokens[name]!) }, "a token reached the log")
        }
        _ = directory
    }
}
