import DialogueModel
import Foundation
import Synchronization

/// A stand-in for a server's `POST /v1/devices` (docs/TRUST.md), on a ``ScriptedHTTPServer``:
/// certifies whatever device asks for the member and school it was given, signed with a
/// key the test controls (swap it to play another server on the same URL, rotate it with an
/// endorsement, forge the certificate's signer, or refuse with a code). Its JSON is written
/// here from the model's statements, apart from the client's own wire types, so a client
/// test also checks the documented shape. Other paths go to `otherwise`.
public final class ScriptedRegistrar: Sendable {
    public struct Identity: Sendable {
        public var member: UUID
        public var memberName: String
        public var school: UUID
        public var schoolName: String

        public init(member: UUID = UUID(), memberName: String, school: UUID = UUID(), schoolName: String) {
            self.member = member
            self.memberName = memberName
            self.school = school
            self.schoolName = schoolName
        }
    }

    struct State: Sendable {
        var key: SigningKeyPair
        var endorsements: [ServerKeyEndorsement] = []
        var identity: Identity
        var spaces: [SpaceDirectory.Entry] = []
        var refusal: (status: Int, code: String)?
    }

    private final class Locked: Sendable {
        let mutex: Mutex<State>
        init(_ state: State) { mutex = Mutex(state) }
    }

    private let state: Locked
    public let server: ScriptedHTTPServer
    public var url: String { server.url }
    public var port: Int { server.port }

    public init(
        _ identity: Identity, key: SigningKeyPair = SigningKeyPair(),
        otherwise: @escaping @Sendable (ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Response = { _ in .init(status: 404) }
    ) throws {
        let state = Locked(State(key: key, identity: identity))
        self.state = state
        server = try ScriptedHTTPServer { request in
            guard request.path == "/v1/devices" else { return otherwise(request) }
            return Self.respond(to: request, state.mutex.withLock { $0 })
        }
    }

    /// The key the server signs with now.
    public var key: SigningKeyPair { state.mutex.withLock { $0.key } }
    /// Its fingerprint, as `admin server-key` would print it.
    public var fingerprint: String { key.publicKey.fingerprint }

    /// Becomes another server on the same URL: a new key, endorsed by nothing.
    public func replaceKey(with key: SigningKeyPair = SigningKeyPair()) {
        state.mutex.withLock { state in
            state.key = key
            state.endorsements = []
        }
    }

    /// Rotates as `admin rotate-key` does: a new key endorsed by the current one.
    public func rotate() {
        state.mutex.withLock { state in
            let next = SigningKeyPair()
            state.endorsements.append(ServerKeyEndorsement.issue(newKey: next.publicKey, issuedAt: 1_767_225_700_000, signedBy: state.key))
            state.key = next
        }
    }

    /// Answers every registration with this refusal (`nil`: certify again).
    public func refuse(_ refusal: (status: Int, code: String)?) { state.mutex.withLock { $0.refusal = refusal } }

    /// The spaces the directory lists.
    public func list(_ spaces: [SpaceDirectory.Entry]) { state.mutex.withLock { $0.spaces = spaces } }

    private struct Answer: Encodable {
        var certificate: DeviceCertificate
        var serverKey: PublicSigningKey
        var fingerprint: String
        var endorsements: [ServerKeyEndorsement]
        var directory: SpaceDirectory
    }

    private static func respond(to request: ScriptedHTTPServer.Request, _ state: State) -> ScriptedHTTPServer.Response {
        if let refusal = state.refusal {
            let body = #"{"error":{"code":"\#(refusal.code)","message":"refused by the scripted registrar"}}"#
            return .init(status: refusal.status, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
        }
        guard request.method == "POST", request.headers["authorization"]?.hasPrefix("Bearer ") == true,
            let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
            object["protocol"] as? Int == 2, let replica = (object["replica"] as? String).flatMap(ReplicaID.init),
            let publicKey = (object["publicKey"] as? String).flatMap(PublicSigningKey.init(base64:))
        else {
            return .init(status: 400, body: Array(#"{"error":{"code":"malformed_request","message":"bad registration"}}"#.utf8))
        }
        let now: Int64 = 1_767_225_800_000
        let identity = state.identity
        let certificate = DeviceCertificate.issue(
            replica: replica, publicKey: publicKey, member: identity.member, memberName: identity.memberName, school: identity.school,
            schoolName: identity.schoolName, issuedAt: now, signedBy: state.key)
        let directory = SpaceDirectory.issue(member: identity.member, issuedAt: now, entries: state.spaces, signedBy: state.key)
        let answer = Answer(
            certificate: certificate, serverKey: state.key.publicKey, fingerprint: state.key.publicKey.fingerprint,
            endorsements: state.endorsements, directory: directory)
        return .init(status: 200, headers: [("Content-Type", "application/json")], body: Array(try! JSONEncoder().encode(answer)))
    }

    deinit { server.stop() }
}
