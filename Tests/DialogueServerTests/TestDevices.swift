import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The devices behind the tests' handcrafted pushes: the server verifies every push
/// (docs/TRUST.md), so a test pushes what a logged-in replica would. Each author replica
/// gets a device key when it first pushes, is registered with the token that pushes it
/// (unless it was registered before: ``register(_:token:in:)`` makes a device whose
/// changes another member relays), and each of its runs is signed as its replica signs
/// a transaction (``ChangeSigner/heads(for:)``). A test of something else (shape,
/// references, access, limits) so meets its own refusal, never an unsigned one.
final class TestDevices: Sendable {
    private struct State {
        var signers: [ReplicaID: ChangeSigner] = [:]
        var registered: Set<ReplicaID> = []
    }

    private let state = Mutex(State())

    init() {}

    /// The device key of `replica` (made on first use).
    func key(of replica: ReplicaID) -> SigningKeyPair {
        state.withLock { state in
            if let signer = state.signers[replica] { return signer.key }
            let signer = ChangeSigner()
            state.signers[replica] = signer
            return signer.key
        }
    }

    /// The heads `replica`'s device pushes with `changes` (its own).
    func heads(for changes: [Change]) throws -> [ChainHead] {
        guard let replica = changes.first?.replica else { return [] }
        _ = key(of: replica)
        return try state.withLock { state throws(TrustError) in try state.signers[replica]!.heads(for: changes) }
    }

    /// Heads over `changes` that the device signs and then does not keep: its chain stays
    /// where it was (what a hostile member's own device can sign: the server must refuse
    /// such changes for what they say, and the device's next honest run still verifies).
    func headsAside(for changes: [Change]) throws -> [ChainHead] {
        guard let replica = changes.first?.replica else { return [] }
        _ = key(of: replica)
        var copy = state.withLock { $0.signers[replica]! }
        return try copy.heads(for: changes)
    }

    /// `request` as the devices that wrote its changes send it: every section with changes
    /// and no heads gets the heads of its authors' runs (binary when its changes are).
    /// `register` is called once for each author not registered yet (with its key).
    func signing(
        _ request: SyncRequest, register: (ReplicaID, PublicSigningKey) async throws -> Void
    ) async throws -> SyncRequest {
        var request = request
        for index in request.spaces.indices {
            let section = request.spaces[index]
            guard section.heads.isEmpty, section.headsBinary == nil, let changes = try? section.allChanges(), !changes.isEmpty else {
                continue
            }
            var authors: [ReplicaID] = []
            for change in changes where !authors.contains(change.replica) { authors.append(change.replica) }
            var heads: [ChainHead] = []
            for author in authors {
                let key = key(of: author)
                if state.withLock({ $0.registered.insert(author).inserted }) {
                    do { try await register(author, key.publicKey) } catch {
                        state.withLock { _ = $0.registered.remove(author) }
                        throw error
                    }
                }
                // A change no device can link (one occupying no counter) goes unsigned: the
                // server refuses it for its shape first.
                heads += (try? self.heads(for: changes.filter { $0.replica == author })) ?? []
            }
            if section.changesBinary != nil {
                request.spaces[index].headsBinary = Data(ChainHeadCodec.encode(heads)).base64EncodedString()
            } else {
                request.spaces[index].heads = heads
            }
        }
        return request
    }

    /// `request` signed, each new author registered with the member of the raw `token` in
    /// `store`: for tests that call a ``SyncService`` directly.
    func signed(_ request: SyncRequest, token: String, store: any SyncStore) async throws -> SyncRequest {
        try await signing(request) { replica, key in
            _ = try await RouteHarness.register(replica, key: key, token: token, store: store)
        }
    }

    /// Marks `replica` registered (by a test that registered it itself).
    func registered(_ replica: ReplicaID) {
        state.withLock { _ = $0.registered.insert(replica) }
    }
}

extension RouteHarness {
    /// Registers `replica`'s device for the member of the fixture token `name`, as
    /// `POST /v1/devices` does: with `key`, or with the key ``devices`` signs its pushes with
    /// (whoever sends them then: a relay).
    @discardableResult
    func register(
        _ replica: ReplicaID, key: SigningKeyPair? = nil, token name: String = "hill-member"
    ) async throws
        -> DeviceRegistrationResponse
    {
        let answer = try await Self.register(
            replica, key: (key ?? devices.key(of: replica)).publicKey, token: accounts.tokens[name] ?? name, store: store)
        if key == nil { devices.registered(replica) }
        return answer
    }

    /// Registers a device key for `replica` with the member of a raw `token`.
    static func register(
        _ replica: ReplicaID, key: PublicSigningKey, token: String, store: any SyncStore
    ) async throws -> DeviceRegistrationResponse {
        let record = try #require(try await store.token(forTokenHash: Tokens.hash(token)), "no such token")
        return try await ServerAuthority(store: store).register(DeviceRegistrationRequest(replica: replica, publicKey: key), token: record)
    }

    /// `request` signed by its authors' devices, each registered with `token` on first use
    /// (a token the store does not know registers nothing: the push is refused at the door).
    func signed(_ request: SyncRequest, token: String?) async throws -> SyncRequest {
        try await devices.signing(request) { replica, _ in
            guard let token else { return }
            let raw = accounts.tokens[token] ?? token
            guard try await store.token(forTokenHash: Tokens.hash(raw)) != nil else { return }
            _ = try await Self.register(replica, key: devices.key(of: replica).publicKey, token: raw, store: store)
        }
    }
}

extension TestDevices {
    /// `request` signed, each new author registered over `POST /v1/devices` of a live
    /// `server` with `token`.
    func signed(_ request: SyncRequest, server: URL, token: String) async throws -> SyncRequest {
        try await signing(request) { replica, key in
            _ = try await DeviceRegistrationTests.register(server, token: token, replica: replica, key: key).registration()
        }
    }
}

/// POSTs `request` to a live server as the devices that wrote its changes send it: each
/// author registered over `POST /v1/devices` with `token` on first use, its runs signed.
func postSignedSync(_ server: URL, token: String, _ request: SyncRequest, devices: TestDevices) async throws -> SyncResponse {
    try await postSync(server, token: token, try await devices.signed(request, server: server, token: token))
}

/// A sync client for `replica` logged in to `server` (its device registered, the server's
/// key pinned), as `dialogue-client login` leaves it: sync needs a login.
func loggedIn(
    _ replica: Replica, to server: URL, token: String, configure: (inout SyncClient.Configuration) -> Void = { _ in }
) async throws -> SyncClient {
    var configuration = SyncClient.Configuration(server: server, token: token)
    configure(&configuration)
    let client = SyncClient(configuration: configuration)
    _ = try await client.registerDevice(replica)
    return client
}

/// Logs `replica` in to a scripted registrar (its key pinned, its device certified), for
/// tests of the client against a scripted or hostile server that plays no registration:
/// sync needs a login before it sends anything.
func logInToScriptedServer(_ replica: Replica) async throws {
    let registrar = try ScriptedRegistrar(.init(memberName: "Ada Leader", schoolName: "Hill Primary"))
    _ = try await SyncClient(configuration: .init(server: URL(string: registrar.url)!, token: "dlg_scripted_token")).registerDevice(replica)
    registrar.server.stop()
}
