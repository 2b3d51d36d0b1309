import DialogueGzip
import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// `POST /v1/sync` through the server's router in-process (as the route tests drive it),
/// over a SQLite store in a temporary folder with two schools in a partnership.
///
/// Input: one mode byte, then the request body. Mode bits 0–1 choose the token (a hill
/// member, a vale member, a hill observer, none); bit 2 gzips the body and says so; bit 3
/// claims gzip without compressing; bit 4 sends `text/plain`. The body's placeholder
/// space ids (``FuzzCorpus/space`` and the two below) are replaced by the store's real
/// ones, so seeds and their mutants push to spaces that exist.
/// Oracle: no 5xx other than 503 `unavailable`, and every refusal is a JSON error body.
actor SyncRouteFuzz {
    static let shared = SyncRouteFuzz()
    static let hillSpace = SpaceID(UUID(uuidString: "5ba7ed00-0000-4000-8000-000000000002")!)
    static let valeSpace = SpaceID(UUID(uuidString: "5ba7ed00-0000-4000-8000-000000000003")!)

    private struct Setup {
        let server: SyncServer
        let tokens: [String?]
        let substitutions: [(placeholder: [UInt8], real: [UInt8])]
    }
    private var setup: Setup?

    func run(_ input: [UInt8]) async throws(FuzzFinding) {
        guard let mode = input.first else { return }
        let setup: Setup
        do { setup = try await prepared() } catch { fatalError("cannot set up the server: \(error)") }
        var body = Array(input.dropFirst())
        for substitution in setup.substitutions { Self.replace(substitution.placeholder, with: substitution.real, in: &body) }
        var headers: HTTPFields = [.contentType: mode & 16 == 16 ? "text/plain" : "application/json"]
        if let token = setup.tokens[Int(mode & 3)] { headers[.authorization] = "Bearer \(token)" }
        if mode & 4 == 4 {
            body = Gzip.compress(body)
            headers[.contentEncoding] = "gzip"
        } else if mode & 8 == 8 {
            headers[.contentEncoding] = "gzip"
        }
        let logger = Self.quietLogger()
        let app = Application(router: setup.server.router(), logger: logger)
        let request = ByteBuffer(bytes: body)
        let sent = headers
        let outcome: (status: Int, body: [UInt8], contentType: String?)
        do {
            outcome = try await app.test(.router) { client in
                let response = try await client.execute(uri: "/v1/sync", method: .post, headers: sent, body: request)
                return (response.status.code, Array(response.body.readableBytesView), response.headers[.contentType])
            }
        } catch {
            throw FuzzFinding("the router threw instead of answering: \(error)")
        }
        if outcome.status >= 400 {
            guard outcome.contentType == "application/json", let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(outcome.body))
            else {
                throw FuzzFinding(
                    "status \(outcome.status) without a JSON error body: \(String(decoding: outcome.body.prefix(300), as: UTF8.self))")
            }
            if outcome.status >= 500, !(outcome.status == 503 && error.error.code == SyncErrorCode.unavailable.rawValue) {
                throw FuzzFinding("status \(outcome.status) \(error.error.code): \(error.error.message)")
            }
        }
    }

    private func prepared() async throws -> Setup {
        if let setup { return setup }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-fuzz-server-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteSyncStore(path: folder.appendingPathComponent("server.sqlite").path)
        let partnership = try await store.createPartnership(name: "North Partnership")
        let hill = try await store.createSchool(name: "Hill Primary")
        let vale = try await store.createSchool(name: "Vale Academy")
        try await store.addSchool(hill.id, toPartnership: partnership.id)
        try await store.addSchool(vale.id, toPartnership: partnership.id)
        var tokens: [String?] = []
        for (name, school, access) in [
            ("hill-member", hill.id, MemberAccess.member), ("vale-member", vale.id, .member), ("hill-observer", hill.id, .observer),
        ] {
            let member = try await store.createMember(name: name, school: school, role: access)
            let (token, record) = Tokens.issue(for: member.id, label: name)
            try await store.storeToken(record)
            tokens.append(token)
        }
        tokens.append(nil)
        let logger = Self.quietLogger()
        // Rate limits off: the fuzzer is one token sending thousands of pushes a minute, and a
        // 429 for each would stop every input at the door.
        var limits = ServerLimits()
        limits.authFailuresPerAddress = .off
        limits.authFailuresPerToken = .off
        limits.pushesPerToken = .off
        limits.pushesPerAddress = .off
        let server = SyncServer(service: SyncService(store: store, limits: limits, logger: logger), metrics: nil, logger: logger)
        func text(_ space: SpaceID) -> [UInt8] { Array(space.description.utf8) }
        let made = Setup(
            server: server, tokens: tokens,
            substitutions: [
                (text(FuzzCorpus.space), text(partnership.sharedSpace)), (text(Self.hillSpace), text(hill.privateSpace)),
                (text(Self.valeSpace), text(vale.privateSpace)),
            ])
        setup = made
        return made
    }

    private static func quietLogger() -> Logger {
        var logger = Logger(label: "dialogue.fuzz.server")
        logger.logLevel = .critical
        return logger
    }

    /// Replaces every occurrence of `pattern` (same length as `replacement`) in `bytes`.
    private static func replace(_ pattern: [UInt8], with replacement: [UInt8], in bytes: inout [UInt8]) {
        guard pattern.count == replacement.count, bytes.count >= pattern.count else { return }
        var index = 0
        while index <= bytes.count - pattern.count {
            if bytes[index] == pattern[0], bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                bytes.replaceSubrange(index..<(index + pattern.count), with: replacement)
                index += pattern.count
            } else {
                index += 1
            }
        }
    }

    /// Pushes and pulls a client would send: the corpus to the shared space (JSON and
    /// binary), a pull with a vector, a push to the private space, an observer's push.
    static func seeds() throws -> [(name: String, bytes: [UInt8])] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json(_ request: SyncRequest) throws -> [UInt8] { [UInt8](try encoder.encode(request)) }
        let changes = FuzzCorpus.changes()
        var have = VersionVector()
        for change in changes { have.record(Dot(change.replica, change.lastCounter)) }
        let shared = SyncRequest(replica: FuzzCorpus.hill, spaces: [.init(space: FuzzCorpus.space, have: have, changes: changes)])
        let binary = SyncRequest(
            replica: FuzzCorpus.hill, spaces: [.init(space: FuzzCorpus.space, have: have, changes: Array(changes.prefix(8)), binary: true)],
            binary: true)
        let pull = SyncRequest(
            replica: FuzzCorpus.vale, spaces: [.init(space: FuzzCorpus.space, have: VersionVector([FuzzCorpus.hill: 3]), after: 0)],
            limit: 5)
        let privateChanges = FuzzCorpus.changes(in: hillSpace)
        let privatePush = SyncRequest(
            replica: FuzzCorpus.hill, spaces: [.init(space: hillSpace, have: VersionVector(), changes: privateChanges)])
        let everything = SyncRequest(
            replica: FuzzCorpus.vale,
            spaces: [.init(space: valeSpace, have: VersionVector()), .init(space: FuzzCorpus.space, have: VersionVector())])
        return [
            ("push-shared.json", [0] + (try json(shared))),
            ("push-binary.json", [0] + (try json(binary))),
            ("pull-vale.json", [1] + (try json(pull))),
            ("push-private-gzip.json", [4] + (try json(privatePush))),
            ("observer-push.json", [2] + (try json(shared))),
            ("pull-all-vale.json", [1] + (try json(everything))),
        ]
    }
}
