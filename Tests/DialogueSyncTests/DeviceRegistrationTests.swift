import DialogueModel
import DialogueTestSupport
import Foundation
import GRDB
import Synchronization
import Testing

@testable import DialogueSync

/// A stand-in for the server's `POST /v1/devices`: certifies whatever device asks, with
/// the key (and rotations) the test gives it, and records what it received.
final class DeviceRegistrar: Sendable {
    struct State {
        var key: SigningKeyPair
        var endorsements: [ServerKeyEndorsement] = []
        /// Sign certificates with this key instead of `key` (a forgery), when set.
        var certificateSigner: SigningKeyPair?
        /// Certify this key instead of the one asked for, when set.
        var certifiedKey: PublicSigningKey?
        var refusal: (status: Int, code: String)?
    }

    static let member = UUID(uuidString: "ada00000-0000-4000-8000-000000000001")!
    static let school = UUID(uuidString: "5c000000-0000-4000-8000-000000000001")!
    static let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-00000000a11a")!)

    /// The state behind a lock, shared with the server's handler.
    final class Locked: Sendable {
        private let mutex: Mutex<State>
        init(_ state: State) { mutex = Mutex(state) }
        func withLock<T>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    let state: Locked
    let server: ScriptedHTTPServer

    init(key: SigningKeyPair = SigningKeyPair()) throws {
        let state = Locked(State(key: key))
        self.state = state
        server = try ScriptedHTTPServer { request in
            guard request.path == "/v1/devices", request.method == "POST",
                let asked = try? JSONDecoder().decode(DeviceRegistrationRequest.self, from: Data(request.body))
            else { return .init(status: 404) }
            let current = state.withLock { $0 }
            if let refusal = current.refusal {
                return .init(status: refusal.status, body: Array(#"{"error":{"code":"\#(refusal.code)","message":"refused"}}"#.utf8))
            }
            let answer = Self.answer(to: asked, current)
            return .init(status: 200, headers: [("Content-Type", "application/json")], body: Array(try! JSONEncoder().encode(answer)))
        }
    }

    static func answer(to asked: DeviceRegistrationRequest, _ state: State) -> DeviceRegistrationResponse {
        let signer = state.certificateSigner ?? state.key
        let certificate = DeviceCertificate.issue(
            replica: asked.replica, publicKey: state.certifiedKey ?? asked.publicKey, member: member, memberName: "Ada Leader",
            school: school, schoolName: "Hill Primary", issuedAt: 1_767_225_600_000, signedBy: signer)
        let directory = SpaceDirectory.issue(
            member: member, issuedAt: 1_767_225_600_000,
            entries: [.init(space: space, name: "Hill Primary (private)", kind: .private, owner: school)], signedBy: state.key)
        return DeviceRegistrationResponse(
            certificate: certificate, serverKey: state.key.publicKey, endorsements: state.endorsements, directory: directory)
    }

    /// Rotates to a new key, endorsed by the current one.
    func rotate() {
        state.withLock { state in
            let next = SigningKeyPair()
            state.endorsements.append(ServerKeyEndorsement.issue(newKey: next.publicKey, issuedAt: 1_767_225_700_000, signedBy: state.key))
            state.key = next
        }
    }

    var key: SigningKeyPair { state.withLock { $0.key } }

    func client() -> SyncClient {
        var configuration = SyncClient.Configuration(server: URL(string: server.url)!, token: "dlg_test_token")
        configuration.retry.maxAttempts = 1
        return SyncClient(configuration: configuration)
    }

    deinit { server.stop() }
}

/// What a refused registration must leave as it was: the whole trust cache.
struct TrustSnapshot: Equatable {
    var tables: [String: [[String]]]

    init(_ replica: Replica) async throws {
        tables = try await replica.database.read { db in
            var tables: [String: [[String]]] = [:]
            for table in ["server_key_pin", "server_key_endorsements", "device_certificates", "device_revocations", "space_directory"] {
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1").map { row in
                    row.databaseValues.map(\.description)
                }
            }
            return tables
        }
    }
}

@Suite("Device registration and server-key pinning")
struct DeviceRegistrationTests {
    @Test(
        "the first registration pins the server's key and stores the certificate and directory; the certified member is the default author")
    func firstUsePins() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("replica.sqlite"))
        let server = try DeviceRegistrar()
        #expect(try replica.serverKeyRing() == nil)
        let registration = try await server.client().registerDevice(replica)
        #expect(registration.pinnedNow)
        #expect(registration.serverKey == server.key.publicKey)
        #expect(registration.certificate.memberName == "Ada Leader" && registration.certificate.schoolName == "Hill Primary")
        #expect(try replica.serverKeyRing() == ServerKeyRing(pinned: server.key.publicKey))
        #expect(try replica.deviceCertificate() == registration.certificate)
        #expect(try replica.certificate(of: replica.id)?.publicKey == replica.devicePublicKey)
        #expect(try replica.spaceDirectory()?.entry(for: DeviceRegistrar.space)?.name == "Hill Primary (private)")
        let sent = try JSONDecoder().decode(DeviceRegistrationRequest.self, from: Data(try #require(server.server.requests.first).body))
        #expect(sent == DeviceRegistrationRequest(replica: replica.id, publicKey: replica.devicePublicKey))
        #expect(server.server.requests.first?.headers["authorization"] == "Bearer dlg_test_token")

        // Again: the same key, nothing new pinned.
        let again = try await server.client().registerDevice(replica)
        #expect(!again.pinnedNow)

        // The certified member is the author of what this device captures, after reopening too.
        let reopened = try Replica(path: directory.path("replica.sqlite"))
        try await reopened.addSpace(DeviceRegistrar.space)
        let insight = try await reopened.edit(in: DeviceRegistrar.space) { editor in
            let session = try editor.createSession(title: "Feedback")
            return try editor.captureInsight(in: session, text: "Model it first.")
        }
        let document = try #require(await reopened.document(DeviceRegistrar.space))
        #expect(Insight(insight, in: document)?.author == EntityID(DeviceRegistrar.member))
    }

    @Test("an insight naming another author than the certified member is refused, and nothing is stored")
    func forgedAuthorRefused() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("replica.sqlite"))
        try await replica.addSpace(DeviceRegistrar.space)
        let session = try await replica.edit(in: DeviceRegistrar.space) { editor in try editor.createSession(title: "Feedback") }
        let ben = EntityID(UUID())
        // Before login: certified for no one, so no author may be named.
        await #expect(throws: ReplicaError.authorNotCertified(claimed: ben, certified: nil)) {
            try await replica.edit(in: DeviceRegistrar.space) { editor in
                try editor.captureInsight(in: session, text: "As Ben", author: ben)
            }
        }
        let server = try DeviceRegistrar()
        try await server.client().registerDevice(replica)
        let before = try #require(await replica.document(DeviceRegistrar.space)).canonicalExport()
        await #expect(throws: ReplicaError.authorNotCertified(claimed: ben, certified: EntityID(DeviceRegistrar.member))) {
            try await replica.edit(in: DeviceRegistrar.space) { editor in
                try editor.captureInsight(in: session, text: "As Ben", author: ben)
            }
        }
        // The generic setter is held to the same rule.
        await #expect(throws: ReplicaError.self) {
            try await replica.edit(in: DeviceRegistrar.space) { editor in
                let insight = try editor.captureInsight(in: session, text: "Mine")
                try editor.set(Insight.Field.author, of: insight, to: .reference(ben))
            }
        }
        #expect(try #require(await replica.document(DeviceRegistrar.space)).canonicalExport() == before)
        // Naming the certified member is fine.
        try await replica.edit(in: DeviceRegistrar.space) { editor in
            _ = try editor.captureInsight(in: session, text: "Mine", author: EntityID(DeviceRegistrar.member))
        }
    }

    @Test("another server key on the same URL is refused loudly, naming both fingerprints, and nothing changes")
    func changedKeyRefused() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("replica.sqlite"))
        let server = try DeviceRegistrar()
        let pinned = server.key.publicKey
        try await server.client().registerDevice(replica)
        let before = try await TrustSnapshot(replica)
        let impostor = SigningKeyPair()
        server.state.withLock { $0.key = impostor }
        await #expect(
            throws: SyncClientError.serverKeyChanged(
                server: server.server.url, presented: impostor.publicKey.fingerprint, pinned: pinned.fingerprint)
        ) { try await server.client().registerDevice(replica) }
        #expect(try await TrustSnapshot(replica) == before)

        // An impostor that offers an endorsement it signed itself gets no further.
        server.state.withLock { state in
            state.endorsements = [ServerKeyEndorsement.issue(newKey: impostor.publicKey, issuedAt: 1, signedBy: SigningKeyPair())]
        }
        await #expect(throws: SyncClientError.self) { try await server.client().registerDevice(replica) }
        #expect(try await TrustSnapshot(replica) == before)
        // Nor does one that forges the pinned key's endorsement (a signature that does not verify).
        server.state.withLock { state in
            var forged = ServerKeyEndorsement.issue(newKey: impostor.publicKey, issuedAt: 1, signedBy: impostor)
            forged.previousKey = pinned
            state.endorsements = [forged]
        }
        await #expect(throws: SyncClientError.self) { try await server.client().registerDevice(replica) }
        #expect(try await TrustSnapshot(replica) == before)
    }

    @Test("--replace-server-key: a wrong fingerprint changes nothing; the presented one replaces the pin and forgets the old trust")
    func deliberateReplacement() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("replica.sqlite"))
        let server = try DeviceRegistrar()
        try await server.client().registerDevice(replica)
        let other = SigningKeyPair()
        let stranger = DeviceCertificate.issue(
            replica: ReplicaID(rawValue: 42)!, publicKey: SigningKeyPair().publicKey, member: UUID(), memberName: "Ben", school: UUID(),
            schoolName: "Vale", issuedAt: 1, signedBy: server.key)
        try await replica.storeCertificates([stranger])
        let before = try await TrustSnapshot(replica)
        server.state.withLock { $0.key = other }
        let wrong = SigningKeyPair().publicKey.fingerprint
        await #expect(throws: SyncClientError.replacementKeyMismatch(given: wrong, presented: other.publicKey.fingerprint)) {
            try await server.client().registerDevice(replica, replacingServerKey: wrong)
        }
        #expect(try await TrustSnapshot(replica) == before)

        let registration = try await server.client().registerDevice(replica, replacingServerKey: other.publicKey.fingerprint)
        #expect(registration.pinnedNow)
        #expect(try replica.serverKeyRing() == ServerKeyRing(pinned: other.publicKey))
        #expect(try replica.certificate(of: stranger.replica) == nil, "a certificate verified under the old pin was kept")
        #expect(try replica.deviceCertificate()?.signer == other.publicKey)
    }

    @Test("a rotated key endorsed by the pinned one is accepted and the ring follows it, across reopening")
    func rotationFollowed() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("replica.sqlite")
        let replica = try Replica(path: path)
        let server = try DeviceRegistrar()
        let first = server.key.publicKey
        try await server.client().registerDevice(replica)
        server.rotate()
        server.rotate()
        let registration = try await server.client().registerDevice(replica)
        #expect(!registration.pinnedNow)
        let ring = try #require(try Replica(path: path).serverKeyRing())
        #expect(ring.pinned == first)
        #expect(ring.newestKey == server.key.publicKey)
        #expect(ring.keys.count == 3)
        #expect(try replica.deviceCertificate()?.signer == server.key.publicKey)
    }

    @Test("a fresh replica meeting a rotated server trusts its whole endorsed history, so certificates from before the rotation verify")
    func freshReplicaAfterRotation() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("replica.sqlite"))
        let server = try DeviceRegistrar()
        let old = server.key
        server.rotate()
        let registration = try await server.client().registerDevice(replica)
        #expect(registration.pinnedNow)
        let ring = try #require(try replica.serverKeyRing())
        #expect(ring.trusts(old.publicKey) && ring.trusts(server.key.publicKey))
        let before = DeviceCertificate.issue(
            replica: ReplicaID(rawValue: 7)!, publicKey: SigningKeyPair().publicKey, member: UUID(), memberName: "Ben", school: UUID(),
            schoolName: "Vale", issuedAt: 1, signedBy: old)
        try await replica.storeCertificates([before])
        #expect(try replica.certificate(of: before.replica) == before)
    }

    @Test("an answer that does not verify stores nothing: a certificate for another key, or signed by an untrusted key")
    func unverifiedAnswersRefused() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("replica.sqlite"))
        let server = try DeviceRegistrar()
        let empty = try await TrustSnapshot(replica)
        server.state.withLock { $0.certifiedKey = SigningKeyPair().publicKey }
        await #expect(throws: SyncClientError.self) { try await server.client().registerDevice(replica) }
        #expect(try await TrustSnapshot(replica) == empty)
        server.state.withLock { state in
            state.certifiedKey = nil
            state.certificateSigner = SigningKeyPair()
        }
        do {
            try await server.client().registerDevice(replica)
            Issue.record("a certificate signed by another key was accepted")
        } catch {
            guard error.code == .unverifiedAnswer else { throw error }
        }
        #expect(try await TrustSnapshot(replica) == empty)
    }

    @Test("409 replica_taken and 403 revoked_device become typed errors that say what to do", arguments: [409, 403])
    func refusalsTyped(status: Int) async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("replica.sqlite"))
        let server = try DeviceRegistrar()
        server.state.withLock { $0.refusal = (status, status == 409 ? "replica_taken" : "revoked_device") }
        var caught: SyncClientError?
        do { try await server.client().registerDevice(replica) } catch { caught = error }
        switch caught?.code {
        case .replicaTaken?:
            #expect(status == 409 && caught?.replica == replica.id)
            #expect(caught!.description.contains("dialogue-client init"), "\(caught!)")
        case .revokedDevice?:
            #expect(status == 403 && caught?.replica == replica.id)
        default:
            Issue.record("got \(String(describing: caught))")
        }
        #expect(server.server.requests.count == 1, "a refusal was retried")
        #expect(try replica.serverKeyRing() == nil)
    }
}
