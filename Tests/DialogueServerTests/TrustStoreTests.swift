import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Testing

/// The store's side of docs/TRUST.md, run against both stores: the server's keys, devices
/// and revocations.
@Suite("SyncStore trust contract (SQLite and PostgreSQL)")
struct TrustStoreTests {
    static func keyRecord(_ seed: UInt8, at time: Int64 = 1_000, endorsement: Data? = nil) -> ServerKeyRecord {
        ServerKeyRecord(
            generation: 0, publicKey: [UInt8](repeating: seed, count: 32), privateKey: [UInt8](repeating: seed &+ 1, count: 32),
            createdAt: time, endorsement: endorsement)
    }

    @Test("server key: the first candidate becomes the key; later candidates change nothing", arguments: StoreKind.allCases)
    func serverKeyCreatedOnce(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let keys = try await fresh.store.serverKeys(creatingIfAbsent: Self.keyRecord(1))
            #expect(keys.count == 1)
            #expect(keys[0].generation == 1 && keys[0].publicKey == Self.keyRecord(1).publicKey)
            #expect(keys[0].privateKey == Self.keyRecord(1).privateKey && keys[0].retiredAt == nil && keys[0].endorsement == nil)
            #expect(try await fresh.store.serverKeys(creatingIfAbsent: Self.keyRecord(7)) == keys)
        }
    }

    @Test("server key: stores opening one empty database at once end with one and the same key", arguments: StoreKind.allCases)
    func serverKeyRace(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            // Eight more stores over the same database, each with its own candidate, at once.
            var stores: [any SyncStore] = []
            for _ in 0..<8 {
                switch kind {
                case .sqlite: stores.append(try SQLiteSyncStore(path: fresh.directory.path("server.sqlite")))
                case .postgres:
                    stores.append(
                        try await PostgresSyncStore.connect(
                            url: fresh.database!.url, logger: quietLogger("dialogue.test.race"), timeout: postgresTestTimeout))
                }
            }
            let seen = try await withThrowingTaskGroup(of: [ServerKeyRecord].self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask { try await store.serverKeys(creatingIfAbsent: Self.keyRecord(UInt8(10 + index))) }
                }
                var seen: [[ServerKeyRecord]] = []
                for try await keys in group { seen.append(keys) }
                return seen
            }
            #expect(seen.count == 8)
            #expect(seen.allSatisfy { $0.count == 1 && $0 == seen[0] }, "\(seen.map { $0.map(\.publicKey.first) })")
            #expect(try await fresh.store.serverKeys(creatingIfAbsent: Self.keyRecord(99)) == seen[0])
            for store in stores { try await store.close() }
        }
    }

    @Test("rotation: the new key is current, the old one retired and kept; a stale rotation changes nothing", arguments: StoreKind.allCases)
    func rotation(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let first = try await store.serverKeys(creatingIfAbsent: Self.keyRecord(1))[0]
            let endorsement = Data("endorsement".utf8)
            try await store.rotateServerKey(from: first.publicKey, to: Self.keyRecord(3, at: 2_000, endorsement: endorsement))
            var keys = try await store.serverKeys(creatingIfAbsent: Self.keyRecord(9))
            #expect(keys.map(\.generation) == [1, 2])
            #expect(keys[0].publicKey == first.publicKey && keys[0].retiredAt == 2_000)
            #expect(keys[1].publicKey == Self.keyRecord(3).publicKey && keys[1].retiredAt == nil && keys[1].endorsement == endorsement)
            // Rotating from the retired key (another process rotated first): a conflict, nothing changed.
            await #expect(throws: StoreError.conflict) {
                try await store.rotateServerKey(from: first.publicKey, to: Self.keyRecord(5, at: 3_000))
            }
            // Two rotations from the current key at once: exactly one wins.
            let current = keys[1].publicKey
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for seed in [UInt8(20), 30] {
                    group.addTask {
                        (try? await store.rotateServerKey(from: current, to: Self.keyRecord(seed, at: 4_000))) != nil
                    }
                }
                var outcomes: [Bool] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            #expect(outcomes.filter { $0 }.count == 1)
            keys = try await store.serverKeys(creatingIfAbsent: Self.keyRecord(9))
            #expect(keys.count == 3 && keys[1].retiredAt == 4_000 && keys[2].retiredAt == nil)
        }
    }

    /// A school with a member and a token, in `store`.
    struct Holder {
        var school: SchoolAccount
        var member: MemberAccount
        var token: TokenRecord
    }

    static func holder(_ store: any SyncStore, school name: String = "Hill Primary", member: String = "Ada") async throws -> Holder {
        let school = try await store.createSchool(name: name)
        let account = try await store.createMember(name: member, school: school.id, role: .member)
        let (_, token) = Tokens.issue(for: account.id, label: "\(member)'s laptop")
        try await store.storeToken(token)
        return Holder(school: school, member: account, token: token)
    }

    static func device(_ replica: ReplicaID, key: UInt8, _ holder: Holder, token: UUID? = nil, at time: Int64 = 5_000) -> DeviceRecord {
        DeviceRecord(
            replica: replica, publicKey: [UInt8](repeating: key, count: 32), member: holder.member.id, token: token ?? holder.token.id,
            registeredAt: time, certificate: Data("certificate \(key) \(time)".utf8))
    }

    @Test(
        "devices: the first registration binds; the same key and member renew; another key or member is refused",
        arguments: StoreKind.allCases)
    func registration(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let ada = try await Self.holder(store)
            let ben = try await Self.holder(store, school: "Vale Academy", member: "Ben")
            let replica = ReplicaID.random()
            let first = Self.device(replica, key: 1, ada)
            #expect(try await store.registerDevice(first) == .registered(first))
            // Again with the same key and member, a new token and certificate: renewed, first time kept.
            let (_, reissued) = Tokens.issue(for: ada.member.id, label: "re-issued")
            try await store.storeToken(reissued)
            var again = Self.device(replica, key: 1, ada, token: reissued.id, at: 6_000)
            guard case .renewed(let renewed) = try await store.registerDevice(again) else {
                Issue.record("not renewed")
                return
            }
            again.registeredAt = 5_000
            #expect(renewed == again)
            // Another key, or another member with the same key: taken, nothing changed.
            #expect(try await store.registerDevice(Self.device(replica, key: 2, ada, at: 7_000)) == .taken(renewed))
            #expect(try await store.registerDevice(Self.device(replica, key: 1, ben, at: 7_000)) == .taken(renewed))
            #expect(try await store.deviceCertificates(of: [replica]) == [replica: renewed.certificate])
            // Listing, with names and labels.
            let other = Self.device(ReplicaID.random(), key: 3, ben, at: 8_000)
            #expect(try await store.registerDevice(other) == .registered(other))
            let listed = try await store.devices()
            #expect(listed.map(\.device) == [renewed, other])
            #expect(listed.map(\.memberName) == ["Ada", "Ben"] && listed.map(\.tokenLabel) == ["re-issued", "Ben's laptop"])
            #expect(
                try await store.deviceCertificates(of: [replica, other.replica, ReplicaID.random()])
                    == [replica: renewed.certificate, other.replica: other.certificate])
            #expect(try await store.deviceCertificates(of: []) == [:])
        }
    }

    @Test("devices: many registrations of one replica id at once bind it once", arguments: StoreKind.allCases)
    func registrationRace(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let ada = try await Self.holder(store)
            let replica = ReplicaID.random()
            let outcomes = try await withThrowingTaskGroup(of: DeviceRegistrationOutcome.self) { group in
                for key in UInt8(1)...8 { group.addTask { try await store.registerDevice(Self.device(replica, key: key, ada)) } }
                var outcomes: [DeviceRegistrationOutcome] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let bound = outcomes.compactMap { if case .registered(let device) = $0 { device } else { nil } }
            #expect(bound.count == 1)
            #expect(outcomes.filter { if case .taken(let device) = $0 { device == bound.first } else { false } }.count == 7)
        }
    }

    @Test(
        "revoking a token revokes its devices: last counters per space from the vectors, the statement kept, registration refused",
        arguments: StoreKind.allCases)
    func revocation(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let ada = try await Self.holder(store)
            let (_, phoneToken) = Tokens.issue(for: ada.member.id, label: "phone")
            try await store.storeToken(phoneToken)
            var laptop = ChangeAuthor(space: ada.school.privateSpace)
            var laptopShared = ChangeAuthor(space: SpaceID(UUID()), replica: laptop.replica)
            try await store.append(laptop.creates(3), to: laptop.space)
            try await store.append(try laptopShared.textRun("hello"), to: laptopShared.space)
            let idle = ReplicaID.random()  // registered, never pushed
            let phone = ReplicaID.random()  // another token: stays
            for device in [
                Self.device(laptop.replica, key: 1, ada), Self.device(idle, key: 2, ada),
                Self.device(phone, key: 3, ada, token: phoneToken.id),
            ] {
                _ = try await store.registerDevice(device)
            }
            let result = try #require(
                try await store.revokeToken(id: ada.token.id, at: 9_000) { record in Data("signed \(record.replica)".utf8) })
            #expect(result.token == ada.token.id)
            let revoked = Dictionary(uniqueKeysWithValues: result.devices.map { ($0.record.replica, $0) })
            #expect(Set(revoked.keys) == [laptop.replica, idle])
            #expect(revoked[laptop.replica]?.record.lastCounters == [laptop.space: 3, laptopShared.space: 6])
            #expect(revoked[laptop.replica]?.record.revokedAt == 9_000)
            #expect(revoked[idle]?.record.lastCounters == [:])
            #expect(try await store.revokedCounters(of: laptop.replica) == [laptop.space: 3, laptopShared.space: 6])
            #expect(try await store.revokedCounters(of: phone) == [:])
            let listed = Dictionary(uniqueKeysWithValues: try await store.devices().map { ($0.device.replica, $0.device) })
            #expect(
                listed[laptop.replica]?.revokedAt == 9_000 && listed[laptop.replica]?.revocation == Data("signed \(laptop.replica)".utf8))
            #expect(listed[idle]?.revokedAt == 9_000 && listed[phone]?.revokedAt == nil)
            #expect(
                try await store.deviceRevocations(of: [laptop.replica, idle, phone])
                    == [laptop.replica: Data("signed \(laptop.replica)".utf8), idle: Data("signed \(idle)".utf8)])
            #expect(try await store.deviceRevocations(of: []) == [:])
            // The token no longer authenticates; a revoked device cannot register again.
            #expect(try await store.token(forTokenHash: ada.token.hash) == nil)
            let stored = try #require(listed[laptop.replica])
            #expect(
                try await store.registerDevice(Self.device(laptop.replica, key: 1, ada, token: phoneToken.id, at: 10_000))
                    == .revoked(stored))
            // Revoking again: no active token, nothing changed.
            #expect(try await store.revokeToken(id: ada.token.id, at: 11_000) { _ in Data() } == nil)
            #expect(try await store.devices().first { $0.device.replica == laptop.replica }?.device.revokedAt == 9_000)
        }
    }

    @Test("a failing signer revokes nothing (one transaction)", arguments: StoreKind.allCases)
    func revocationAtomic(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let ada = try await Self.holder(store)
            _ = try await store.registerDevice(Self.device(ReplicaID.random(), key: 1, ada))
            struct Refused: Error {}
            await #expect(throws: Refused.self) { try await store.revokeToken(id: ada.token.id, at: 9_000) { _ in throw Refused() } }
            #expect(try await store.token(forTokenHash: ada.token.hash)?.token == ada.token.id)
            #expect(try await store.devices().allSatisfy { $0.device.revokedAt == nil })
        }
    }

    @Test(
        "token and space listings: the token's id and label; the member's spaces named after school and partnerships",
        arguments: StoreKind.allCases)
    func listings(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let store = fresh.store
            let ada = try await Self.holder(store)
            let north = try await store.createPartnership(name: "North")
            let south = try await store.createPartnership(name: "South")
            try await store.addSchool(ada.school.id, toPartnership: north.id)
            try await store.addSchool(ada.school.id, toPartnership: south.id)
            #expect(
                try await store.token(forTokenHash: ada.token.hash)
                    == TokenAccess(token: ada.token.id, label: "Ada's laptop", member: ada.member))
            #expect(try await store.token(forTokenHash: Tokens.hash("dlg_unknown")) == nil)
            let expected = [
                SpaceDirectory.Entry(space: ada.school.privateSpace, name: "Hill Primary", kind: .private, owner: ada.school.id),
                SpaceDirectory.Entry(space: north.sharedSpace, name: "North", kind: .shared, owner: north.id),
                SpaceDirectory.Entry(space: south.sharedSpace, name: "South", kind: .shared, owner: south.id),
            ].sorted { $0.space < $1.space }
            #expect(try await store.spaceListings(ofSchool: ada.school.id) == expected)
            #expect(try await store.spaceListings(ofSchool: UUID()) == [])
        }
    }
}
