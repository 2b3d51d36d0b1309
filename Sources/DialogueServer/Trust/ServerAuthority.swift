import DialogueModel
import DialogueSync
import Foundation

/// What the server signs, with its key from the store (`docs/TRUST.md`, "The server's
/// side"): device certificates, space directories, device revocations and the
/// endorsement of its next key.
///
/// The keys are read from the store at every use (a registration is one small query
/// more), never cached: every server process over one database signs with the same key,
/// and after `dialogue-server admin rotate-key` the next certificate any process issues
/// is signed by the new key, without a restart.
public struct ServerAuthority: Sendable {
    public let store: any SyncStore
    let wallClock: any WallClock

    public init(store: any SyncStore, wallClock: any WallClock = SystemWallClock()) {
        self.store = store
        self.wallClock = wallClock
    }

    /// The server's keys, ready to sign.
    public struct Keys: Sendable {
        /// The current key: it signs everything the server issues.
        public var current: SigningKeyPair
        /// Every rotation so far, oldest first (the chain from the first key to ``current``).
        public var endorsements: [ServerKeyEndorsement]
        /// Every key as stored, oldest first (retired ones included).
        public var records: [ServerKeyRecord]

        /// The keys a replica that trusts the first key trusts.
        public var ring: ServerKeyRing {
            get throws(TrustError) {
                guard let first = records.first.flatMap({ PublicSigningKey(rawRepresentation: $0.publicKey) }) else {
                    throw .invalidKey(reason: "the store holds no server key")
                }
                return try ServerKeyRing(pinned: first, endorsements: endorsements)
            }
        }
    }

    /// The server's keys, creating the first one if the store has none yet (race-free:
    /// of processes creating it at once, one key wins and all use it).
    public func keys() async throws -> Keys {
        let candidate = SigningKeyPair()
        let records = try await store.serverKeys(
            creatingIfAbsent: ServerKeyRecord(
                generation: 1, publicKey: candidate.publicKey.rawRepresentation, privateKey: candidate.rawRepresentation, createdAt: now))
        guard let newest = records.last, let current = try? SigningKeyPair(rawRepresentation: newest.privateKey),
            current.publicKey.rawRepresentation == newest.publicKey
        else {
            throw StoreError.unavailable("the server key in the store is damaged (table server_keys); restore it from a backup")
        }
        var endorsements: [ServerKeyEndorsement] = []
        for record in records.dropFirst() {
            guard let json = record.endorsement, let endorsement = try? JSONDecoder().decode(ServerKeyEndorsement.self, from: json) else {
                throw StoreError.unavailable("server key \(record.generation) in the store lacks a readable endorsement")
            }
            endorsements.append(endorsement)
        }
        return Keys(current: current, endorsements: endorsements, records: records)
    }

    /// Registers the device of `request` for the token's member and answers what the
    /// replica pins and caches. Throws ``TrustError/replicaTaken(_:)`` when the replica id
    /// is bound to another key or member, ``TrustError/revokedDevice(_:lastAccepted:counter:)``
    /// when the device was revoked; nothing is changed then.
    public func register(_ request: DeviceRegistrationRequest, token: TokenAccess) async throws -> DeviceRegistrationResponse {
        let keys = try await keys()
        let member = token.member
        let listings = try await store.spaceListings(of: member)
        guard let school = listings.first(where: { $0.kind == .private && $0.owner == member.school }) else {
            throw StoreError.notFound("school \(member.school)")
        }
        let time = now
        let certificate = DeviceCertificate.issue(
            replica: request.replica, publicKey: request.publicKey, member: member.id, memberName: member.name, school: member.school,
            schoolName: school.name, issuedAt: time, signedBy: keys.current)
        let device = DeviceRecord(
            replica: request.replica, publicKey: request.publicKey.rawRepresentation, member: member.id, token: token.token,
            registeredAt: time, certificate: try Self.json(certificate))
        switch try await store.registerDevice(device) {
        case .registered, .renewed: break
        case .taken: throw TrustError.replicaTaken(request.replica)
        case .revoked: throw TrustError.revokedDevice(request.replica, lastAccepted: nil, counter: nil)
        }
        let directory = SpaceDirectory.issue(
            member: member.id, issuedAt: time,
            entries: listings,
            signedBy: keys.current)
        return DeviceRegistrationResponse(
            certificate: certificate, serverKey: keys.current.publicKey, endorsements: keys.endorsements, directory: directory)
    }

    /// The latest certificates of those of `replicas` that are registered (for sync
    /// responses, which carry the certificates of the devices that wrote what they return).
    public func certificates(of replicas: [ReplicaID]) async throws -> [ReplicaID: DeviceCertificate] {
        var certificates: [ReplicaID: DeviceCertificate] = [:]
        for (replica, json) in try await store.deviceCertificates(of: replicas) {
            certificates[replica] = try JSONDecoder().decode(DeviceCertificate.self, from: json)
        }
        return certificates
    }

    /// The signed revocations of those of `replicas` that are revoked (for sync responses:
    /// a replica refuses a revoked device's changes past its last counters).
    public func revocations(of replicas: [ReplicaID]) async throws -> [ReplicaID: DeviceRevocation] {
        var revocations: [ReplicaID: DeviceRevocation] = [:]
        for (replica, json) in try await store.deviceRevocations(of: replicas) {
            revocations[replica] = try JSONDecoder().decode(DeviceRevocation.self, from: json)
        }
        return revocations
    }

    /// Revokes a token and the devices registered with it: each device's last counters per
    /// space (what the store holds of it) are recorded and certified in a signed
    /// ``DeviceRevocation``. `nil` when there is no active token `id`.
    public func revokeToken(id: UUID) async throws -> (token: UUID, revocations: [DeviceRevocation])? {
        let signer = try await keys().current
        guard
            let result = try await store.revokeToken(
                id: id, at: now,
                certify: { record in
                    try Self.json(
                        DeviceRevocation.issue(
                            replica: record.replica, revokedAt: record.revokedAt, lastCounters: record.lastCounters, signedBy: signer))
                })
        else { return nil }
        return (result.token, try result.devices.map { try JSONDecoder().decode(DeviceRevocation.self, from: $0.statement) })
    }

    /// Makes a new server key, endorsed by the current one, which is retired (and kept:
    /// what it signed stays valid). Throws ``StoreError/conflict`` when another rotation
    /// came first (nothing changed then).
    public func rotateKey() async throws -> ServerKeyEndorsement {
        let previous = try await keys().current
        let next = SigningKeyPair()
        let time = now
        let endorsement = ServerKeyEndorsement.issue(newKey: next.publicKey, issuedAt: time, signedBy: previous)
        try await store.rotateServerKey(
            from: previous.publicKey.rawRepresentation,
            to: ServerKeyRecord(
                generation: 0, publicKey: next.publicKey.rawRepresentation, privateKey: next.rawRepresentation, createdAt: time,
                endorsement: try Self.json(endorsement)))
        return endorsement
    }

    private var now: Int64 { Int64(clamping: wallClock.millisecondsSinceEpoch()) }

    /// The stored form of a statement: its JSON (the form it travels in).
    static func json(_ statement: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(statement)
    }
}

extension SyncStore {
    /// Revokes a token and its devices (``ServerAuthority/revokeToken(id:)``); returns
    /// whether an active token was revoked.
    public func revokeToken(id: UUID) async throws -> Bool {
        try await ServerAuthority(store: self).revokeToken(id: id) != nil
    }
}
