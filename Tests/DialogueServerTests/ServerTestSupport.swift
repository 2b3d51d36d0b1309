import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization

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

/// A store that forwards to another and fails on purpose: its next `failAppends` appends
/// throw (the server answers 500), and with `pingFails` it is unreachable for `/ready`.
final class FlakyStore: SyncStore {
    let base: any SyncStore
    let failAppends: Mutex<Int>
    let pingFails: Bool
    let appendCalls = Mutex(0)

    init(_ base: any SyncStore, failAppends: Int = 0, pingFails: Bool = false) {
        self.base = base
        self.failAppends = Mutex(failAppends)
        self.pingFails = pingFails
    }

    struct Injected: Error, CustomStringConvertible {
        var description: String { "connection refused" }
    }

    func append(_ changes: [Change], heads: [ChainHead], to space: SpaceID) async throws {
        appendCalls.withLock { $0 += 1 }
        let fail = failAppends.withLock { value -> Bool in
            guard value > 0 else { return false }
            value -= 1
            return true
        }
        if fail { throw Injected() }
        try await base.append(changes, heads: heads, to: space)
    }
    func rewrite(_ changes: [Change], in space: SpaceID) async throws { try await base.rewrite(changes, in: space) }
    func chainHeads(in space: SpaceID, covering ranges: [ReplicaID: ClosedRange<UInt64>]) async throws -> [ChainHead] {
        try await base.chainHeads(in: space, covering: ranges)
    }
    func latestChainHeads(in space: SpaceID, of replicas: some Collection<ReplicaID>) async throws -> [ReplicaID: ChainHead] {
        try await base.latestChainHeads(in: space, of: replicas)
    }

    func ping() async throws {
        if pingFails { throw Injected() }
        try await base.ping()
    }
    func close() async throws { try await base.close() }
    func vector(of space: SpaceID) async throws -> VersionVector { try await base.vector(of: space) }
    func storedChanges(in space: SpaceID, replica: ReplicaID, counters: ClosedRange<UInt64>) async throws -> [Change] {
        try await base.storedChanges(in: space, replica: replica, counters: counters)
    }
    func changes(in space: SpaceID, missingFrom vector: VersionVector, after: Int64, limit: Int) async throws -> ChangePageResult {
        try await base.changes(in: space, missingFrom: vector, after: after, limit: limit)
    }
    func createPartnership(name: String) async throws -> PartnershipAccount { try await base.createPartnership(name: name) }
    func createSchool(name: String) async throws -> SchoolAccount { try await base.createSchool(name: name) }
    func addSchool(_ school: UUID, toPartnership partnership: UUID) async throws {
        try await base.addSchool(school, toPartnership: partnership)
    }
    func removeSchool(_ school: UUID, fromPartnership partnership: UUID) async throws {
        try await base.removeSchool(school, fromPartnership: partnership)
    }
    func createMember(name: String, school: UUID, role: MemberAccess) async throws -> MemberAccount {
        try await base.createMember(name: name, school: school, role: role)
    }
    func storeToken(_ token: TokenRecord) async throws { try await base.storeToken(token) }
    func member(forTokenHash hash: [UInt8]) async throws -> MemberAccount? { try await base.member(forTokenHash: hash) }
    func spaces(ofSchool school: UUID) async throws -> Set<SpaceID> { try await base.spaces(ofSchool: school) }
    func partnerships() async throws -> [PartnershipAccount] { try await base.partnerships() }
    func schools() async throws -> [SchoolAccount] { try await base.schools() }
    func members() async throws -> [MemberAccount] { try await base.members() }
    func token(forTokenHash hash: [UInt8]) async throws -> TokenAccess? { try await base.token(forTokenHash: hash) }
    func spaceListings(ofSchool school: UUID) async throws -> [SpaceDirectory.Entry] { try await base.spaceListings(ofSchool: school) }
    func people(visibleTo school: UUID) async throws -> (schools: [PeopleDirectory.School], people: [PeopleDirectory.Person]) {
        try await base.people(visibleTo: school)
    }
    func tokens(ofMember member: UUID) async throws -> [TokenListing] { try await base.tokens(ofMember: member) }
    func legacyVectors(of spaces: [SpaceID]) async throws -> [SpaceID: VersionVector] { try await base.legacyVectors(of: spaces) }
    func setRetentionPolicy(_ record: RetentionPolicyRecord) async throws { try await base.setRetentionPolicy(record) }
    func retentionPolicies() async throws -> [RetentionPolicyRecord] { try await base.retentionPolicies() }
    func personalSpace(of member: UUID) async throws -> SpaceID { try await base.personalSpace(of: member) }
    func personalSpaces() async throws -> [UUID: SpaceID] { try await base.personalSpaces() }
    func serverKeys(creatingIfAbsent candidate: ServerKeyRecord) async throws -> [ServerKeyRecord] {
        try await base.serverKeys(creatingIfAbsent: candidate)
    }
    func rotateServerKey(from previous: [UInt8], to new: ServerKeyRecord) async throws {
        try await base.rotateServerKey(from: previous, to: new)
    }
    func registerDevice(_ device: DeviceRecord) async throws -> DeviceRegistrationOutcome { try await base.registerDevice(device) }
    func devices() async throws -> [DeviceListing] { try await base.devices() }
    func deviceCertificates(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data] {
        try await base.deviceCertificates(of: replicas)
    }
    func deviceRevocations(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data] {
        try await base.deviceRevocations(of: replicas)
    }
    func revokeToken(
        id: UUID, at time: Int64, certify: @Sendable (DeviceRevocationRecord) throws -> Data
    ) async throws -> TokenRevocationResult? { try await base.revokeToken(id: id, at: time, certify: certify) }
    func revokedCounters(of replica: ReplicaID) async throws -> [SpaceID: UInt64] { try await base.revokedCounters(of: replica) }
}
