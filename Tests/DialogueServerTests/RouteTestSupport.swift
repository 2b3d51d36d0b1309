import DialogueGzip
import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Prometheus
import Testing

/// The app in-process (`app.test(.router)`) over a fresh store (SQLite unless asked) with the account fixture.
struct RouteHarness: Sendable {
    let store: any SyncStore
    let accounts: AccountFixture
    let client: any TestClientProtocol
    /// Where the store lives (its SQLite file, or its PostgreSQL database).
    let fresh: FreshStore
    /// The devices that sign the handcrafted pushes (``sync(_:token:headers:)``).
    let devices = TestDevices()

    /// Every space of the fixture.
    var spaces: [SpaceID] { [accounts.partnership.sharedSpace, accounts.hill.privateSpace, accounts.vale.privateSpace] }

    /// What the store holds of every fixture space: compared before and after a refusal.
    func held() async throws -> [SpaceID: VersionVector] {
        var result: [SpaceID: VersionVector] = [:]
        for space in spaces { result[space] = try await store.vector(of: space) }
        return result
    }

    /// POSTs raw bytes to /v1/sync.
    func post(_ body: [UInt8], token: String? = "hill-member", headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(accounts.tokens[token] ?? token)" }
        for field in extra { headers[field.name] = field.value }
        return try await client.execute(uri: "/v1/sync", method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    /// POSTs a sync request as the devices that wrote its changes send it: a section
    /// without heads gets its authors' signed heads, each author registered with `token`
    /// on first use (``TestDevices``).
    func sync(_ request: SyncRequest, token: String? = "hill-member", headers: HTTPFields = [:]) async throws -> TestResponse {
        try await post(try encodeJSON(try await signed(request, token: token)), token: token, headers: headers)
    }

    /// POSTs a sync request exactly as given (unsigned unless it carries heads).
    func syncAsSent(_ request: SyncRequest, token: String? = "hill-member", headers: HTTPFields = [:]) async throws -> TestResponse {
        try await post(try encodeJSON(request), token: token, headers: headers)
    }

    /// A request pushing `changes` (and holding what they cover) to one space.
    static func push(_ changes: [Change], to space: SpaceID, replica: ReplicaID? = nil) -> SyncRequest {
        var have = VersionVector()
        for change in changes { have.record(Dot(change.replica, change.lastCounter)) }
        return SyncRequest(replica: replica ?? changes.first?.replica, spaces: [.init(space: space, have: have, changes: changes)])
    }
}

func encodeJSON(_ value: some Encodable) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return [UInt8](try encoder.encode(value))
}

extension TestResponse {
    var bytes: [UInt8] { Array(body.readableBytesView) }
    var text: String { String(decoding: bytes, as: UTF8.self) }

    func decoded<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// The sync response of a 200 (gunzipped if needed).
    func syncResponse() throws -> SyncResponse {
        var payload = bytes
        if headers[.contentEncoding] == "gzip" { payload = try Gzip.decompress(payload, limit: 1 << 30) }
        return try JSONDecoder().decode(SyncResponse.self, from: Data(payload))
    }
}

/// Runs `body` with the app over a fresh store of `kind` (SQLite unless asked) holding the account fixture.
func withRouteHarness<T: Sendable>(
    _ kind: StoreKind = .sqlite, limits: ServerLimits = ServerLimits(), metrics: PrometheusCollectorRegistry? = nil,
    wrap: @Sendable (any SyncStore) -> any SyncStore = { $0 },
    _ body: @escaping @Sendable (RouteHarness) async throws -> T
) async throws -> T {
    let fresh = try await FreshStore.make(kind)
    do {
        let store = wrap(fresh.store)
        let accounts = try await AccountFixture.make(store)
        let logger = quietLogger("dialogue.server.route-test")
        let server = SyncServer(service: SyncService(store: store, limits: limits, logger: logger), metrics: metrics, logger: logger)
        let app = Application(router: server.router(), logger: logger)
        let result = try await app.test(.router) { client in
            try await body(RouteHarness(store: store, accounts: accounts, client: client, fresh: fresh))
        }
        await fresh.dispose()
        return result
    } catch {
        await fresh.dispose()
        throw error
    }
}

/// Checks a refusal: status, JSON content type, stable code; returns the body.
@discardableResult
func expectRefusal(
    _ response: TestResponse, _ status: Int, _ code: SyncErrorCode, sourceLocation: SourceLocation = #_sourceLocation
) throws -> ErrorBody {
    #expect(response.status.code == status, "body: \(response.text)", sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
    let body = try #require(try? response.decoded(ErrorBody.self), "not an error body: \(response.text)", sourceLocation: sourceLocation)
    #expect(body.error.code == code.rawValue, "message: \(body.error.message)", sourceLocation: sourceLocation)
    #expect(!body.error.message.isEmpty, sourceLocation: sourceLocation)
    return body
}
