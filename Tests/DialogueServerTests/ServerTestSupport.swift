import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging

/// A temporary directory removed when the value goes away.
final class ServerTestDirectory: Sendable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-server-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// One partnership with two schools, their members and tokens, in a fresh store.
struct AccountFixture: Sendable {
    let partnership: PartnershipAccount
    let hill: SchoolAccount
    let vale: SchoolAccount
    /// Tokens by name: hill-member, hill-observer, hill-admin, vale-member.
    let tokens: [String: String]
    let tokenIDs: [String: UUID]

    static func make(_ store: any SyncStore) async throws -> AccountFixture {
        let partnership = try await store.createPartnership(name: "North Partnership")
        var hill = try await store.createSchool(name: "Hill Primary")
        var vale = try await store.createSchool(name: "Vale Academy")
        try await store.addSchool(hill.id, toPartnership: partnership.id)
        try await store.addSchool(vale.id, toPartnership: partnership.id)
        hill.partnerships = [partnership.id]
        vale.partnerships = [partnership.id]
        var tokens: [String: String] = [:]
        var ids: [String: UUID] = [:]
        for (name, school, access) in [
            ("hill-member", hill.id, MemberAccess.member), ("hill-observer", hill.id, .observer), ("hill-admin", hill.id, .admin),
            ("vale-member", vale.id, .member),
        ] {
            let member = try await store.createMember(name: name, school: school, role: access)
            let (token, record) = Tokens.issue(for: member.id, label: name)
            try await store.storeToken(record)
            tokens[name] = token
            ids[name] = record.id
        }
        return AccountFixture(partnership: partnership, hill: hill, vale: vale, tokens: tokens, tokenIDs: ids)
    }
}

/// Runs `body` against a live in-process server on 127.0.0.1 (an ephemeral port).
func withLiveServer<T: Sendable>(
    store: any SyncStore, limits: ServerLimits = ServerLimits(), _ body: @escaping @Sendable (URL) async throws -> T
) async throws -> T {
    var logger = Logger(label: "dialogue.server.test")
    logger.logLevel = .warning
    let server = SyncServer(service: SyncService(store: store, limits: limits, logger: logger), metrics: nil, logger: logger)
    let app = Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
    return try await app.test(.live) { client in
        try await body(URL(string: "http://127.0.0.1:\(client.port!)")!)
    }
}
