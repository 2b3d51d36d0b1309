import DialogueModel
import Foundation

/// Where the server keeps changes and accounts. Two implementations share one test
/// suite: ``SQLiteSyncStore`` (the default: one file, nothing to install) and
/// ``PostgresSyncStore`` (several server processes over one database).
///
/// Change tables are keyed by space first (`space_id` leads every primary key), so a
/// distributed PostgreSQL such as Citus can shard them by space unchanged; account
/// tables are small and become reference tables (see `docs/DEPLOYMENT.md`).
public protocol SyncStore: Sendable {
    /// Checks the store answers (for `/ready`).
    func ping() async throws
    /// Releases connections.
    func close() async throws

    // MARK: Changes

    /// What the store holds of a space.
    func vector(of space: SpaceID) async throws -> VersionVector
    /// Stored changes of one author whose counters intersect `counters`, by counter.
    func storedChanges(in space: SpaceID, replica: ReplicaID, counters: ClosedRange<UInt64>) async throws -> [Change]
    /// Appends validated changes (in causal order) atomically. Throws
    /// ``StoreError/conflict`` if another writer stored any of these counters first.
    func append(_ changes: [Change], to space: SpaceID) async throws
    /// Appends validated changes and the ``ChainHead``s that sign them (table
    /// `chain_heads`, kept to relay them: docs/TRUST.md) in one transaction. A head
    /// already stored is kept as it is.
    func append(_ changes: [Change], heads: [ChainHead], to space: SpaceID) async throws
    /// Replaces stored changes by their stripped form (``Change/erasingContent()``: an
    /// erasure covers them), each matched by its author and first counter, in one
    /// transaction; their storage positions stay, so pulls' cursors stay valid. Then makes
    /// the old content unrecoverable from the store's files (docs/DEPLOYMENT.md, "Erasure"):
    /// SQLite writes with `secure_delete` and checkpoints and truncates its WAL; PostgreSQL
    /// vacuums the change table after the commit.
    func rewrite(_ changes: [Change], in space: SpaceID) async throws
    /// The heads stored of `space` whose replica is a key of `ranges` and whose counter is
    /// in that replica's range, by replica and counter.
    func chainHeads(in space: SpaceID, covering ranges: [ReplicaID: ClosedRange<UInt64>]) async throws -> [ChainHead]
    /// The last head stored of each of `replicas` in `space` (none for a replica with no
    /// head): the position the store verified its chain to. One index lookup per replica,
    /// so its cost does not grow with the heads the space holds.
    func latestChainHeads(in space: SpaceID, of replicas: some Collection<ReplicaID>) async throws -> [ReplicaID: ChainHead]
    /// Changes of `space` that `vector` lacks, in storage order (a causal order: a change
    /// is stored only after its past), scanning from position `after`, at most `limit`.
    /// `cursor` is where the next scan may resume.
    func changes(in space: SpaceID, missingFrom vector: VersionVector, after: Int64, limit: Int) async throws -> ChangePageResult

    // MARK: Accounts

    func createPartnership(name: String) async throws -> PartnershipAccount
    func createSchool(name: String) async throws -> SchoolAccount
    /// Turns sharing on: the school's members may use the partnership's shared space.
    func addSchool(_ school: UUID, toPartnership partnership: UUID) async throws
    /// Turns sharing off again.
    func removeSchool(_ school: UUID, fromPartnership partnership: UUID) async throws
    func createMember(name: String, school: UUID, role: MemberAccess) async throws -> MemberAccount
    func storeToken(_ token: TokenRecord) async throws
    /// The member behind a token hash, unless revoked.
    func member(forTokenHash hash: [UInt8]) async throws -> MemberAccount?
    /// The member behind a token hash and the spaces they may use (their school's and their
    /// own personal space, never another member's), in one round trip.
    func access(forTokenHash hash: [UInt8]) async throws -> (member: MemberAccount, spaces: Set<SpaceID>, personal: SpaceID)?
    /// The spaces a school's members may use: its own private space and the shared
    /// spaces of the partnerships it belongs to.
    func spaces(ofSchool school: UUID) async throws -> Set<SpaceID>
    func partnerships() async throws -> [PartnershipAccount]
    func schools() async throws -> [SchoolAccount]
    func members() async throws -> [MemberAccount]
    /// The token behind a token hash and its member, unless revoked.
    func token(forTokenHash hash: [UInt8]) async throws -> TokenAccess?
    /// The spaces a school's members may hold, named: its private space (after the school)
    /// and the shared spaces of its partnerships (after the partnership), sorted by space.
    func spaceListings(ofSchool school: UUID) async throws -> [SpaceDirectory.Entry]
    /// The schools a member of `school` may see named (their own and every school sharing a
    /// partnership with it) and the members of those schools: a ``PeopleDirectory``'s content.
    func people(visibleTo school: UUID) async throws -> (schools: [PeopleDirectory.School], people: [PeopleDirectory.Person])
    /// Every token issued to a member, revoked ones included (never the token or its hash),
    /// by issue time: for subject access (``SubjectAccess``).
    func tokens(ofMember member: UUID) async throws -> [TokenListing]
    /// The legacy vectors of `spaces` (docs/TRUST.md, "Migration": what the store held of
    /// each before signing); a space the store held nothing of then is absent.
    func legacyVectors(of spaces: [SpaceID]) async throws -> [SpaceID: VersionVector]

    // MARK: Retention (docs/PRIVACY.md, "Retention")

    /// Sets (or, for an empty policy, removes) the retention policy of `space`.
    func setRetentionPolicy(_ record: RetentionPolicyRecord) async throws
    /// Every space's retention policy, by space.
    func retentionPolicies() async throws -> [RetentionPolicyRecord]

    // MARK: Personal spaces (docs/PRIVACY.md, "The personal space")

    /// The personal space of `member`: made with the member, or here when the member has
    /// none yet (a member made by an older server process), race-free (insert-if-absent,
    /// then read back, so processes asking at once agree on one). Throws
    /// ``StoreError/notFound(_:)`` for an unknown member.
    func personalSpace(of member: UUID) async throws -> SpaceID
    /// Every member's personal space, by member: the ids only, so that what serves many
    /// members (subject access) can leave out the personal spaces of everyone else.
    func personalSpaces() async throws -> [UUID: SpaceID]

    // MARK: Trust (docs/TRUST.md)

    /// The server's signing keys, oldest first: the last is the current one. When the store
    /// has none yet, `candidate` becomes the first (insert-if-absent, then read back, so
    /// stores opening one empty database at once all end with the same single key).
    func serverKeys(creatingIfAbsent candidate: ServerKeyRecord) async throws -> [ServerKeyRecord]
    /// Makes `new` the current key and retires the key whose public half is `previous`, in
    /// one transaction. Throws ``StoreError/conflict`` when `previous` is no longer the
    /// current key (another rotation came first): nothing is changed.
    func rotateServerKey(from previous: [UInt8], to new: ServerKeyRecord) async throws
    /// Binds `device.replica` to its key and member if the replica id is free; renews the
    /// certificate (and token) when the same key and member register again; otherwise
    /// changes nothing and says why (``DeviceRegistrationOutcome``). Race-free: two
    /// registrations of one replica id at once bind it once.
    func registerDevice(_ device: DeviceRecord) async throws -> DeviceRegistrationOutcome
    /// Every registered device, with its member's name and token's label, by registration time.
    func devices() async throws -> [DeviceListing]
    /// The JSON of the latest certificate of each of `replicas` that is registered.
    func deviceCertificates(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data]
    /// The JSON of the signed revocation of each of `replicas` that is revoked.
    func deviceRevocations(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data]
    /// Revokes a token and the devices registered with it, in one transaction: for each
    /// device, records per space the last counter the store holds of it (table
    /// `device_revocations`) and keeps the statement `certify` signs for it. `nil` when
    /// there is no active token `id` (nothing changed).
    func revokeToken(
        id: UUID, at time: Int64, certify: @Sendable (DeviceRevocationRecord) throws -> Data
    ) async throws -> TokenRevocationResult?
    /// Per space, the last counter recorded for a revoked device (empty: not revoked, or
    /// nothing held of it).
    func revokedCounters(of replica: ReplicaID) async throws -> [SpaceID: UInt64]
}

/// A page of stored changes and where the scan stopped.
public struct ChangePageResult: Sendable {
    public var changes: [Change]
    public var more: Bool
    public var cursor: Int64
    /// What the store held of the space when the page was read, if the store read it too.
    public var held: VersionVector?
    /// The scan position of each change (as `cursor`), when the store gives them: a page
    /// cut short after change `i` resumes at `positions[i]`.
    public var positions: [Int64]?

    public init(changes: [Change], more: Bool, cursor: Int64, held: VersionVector? = nil, positions: [Int64]? = nil) {
        self.changes = changes
        self.more = more
        self.cursor = cursor
        self.held = held
        self.positions = positions
    }
}

/// Store failures the service handles.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A concurrent writer stored some of the same counters: validate again and retry.
    case conflict
    /// A named account does not exist.
    case notFound(String)
    /// The store cannot be reached or refused the operation.
    case unavailable(String)

    public var description: String {
        switch self {
        case .conflict: "another writer stored the same changes concurrently"
        case .notFound(let what): "\(what) does not exist"
        case .unavailable(let reason): "the store is unavailable: \(reason)"
        }
    }
}

/// A partnership and its shared space.
public struct PartnershipAccount: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var sharedSpace: SpaceID
}

/// A school and its private space.
public struct SchoolAccount: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var privateSpace: SpaceID
    public var partnerships: [UUID]
}

/// What a member may do.
public enum MemberAccess: String, Codable, Sendable, CaseIterable {
    /// Reads and writes their spaces.
    case member
    /// Reads only.
    case observer
    /// Reads and writes, and administers (through `dialogue-server admin`).
    case admin

    public var canWrite: Bool { self != .observer }
}

/// A person with access to a school's spaces.
public struct MemberAccount: Codable, Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var school: UUID
    public var access: MemberAccess
}

/// A device token, stored only as its SHA-256 hash.
public struct TokenRecord: Sendable, Equatable {
    public var id: UUID
    public var hash: [UInt8]
    public var member: UUID
    public var label: String
    public var issuedAt: Date
}

/// A token as subject access shows it: what it is called and when it was issued and
/// revoked, never the token or its hash.
public struct TokenListing: Codable, Sendable, Hashable {
    public var id: UUID
    public var label: String
    /// Milliseconds since 1970.
    public var issuedAt: Int64
    /// Milliseconds since 1970; `nil` while the token is valid.
    public var revokedAt: Int64?

    public init(id: UUID, label: String, issuedAt: Int64, revokedAt: Int64?) {
        self.id = id
        self.label = label
        self.issuedAt = issuedAt
        self.revokedAt = revokedAt
    }
}

extension SyncStore {
    public func append(_ changes: [Change], to space: SpaceID) async throws {
        try await append(changes, heads: [], to: space)
    }

    public func access(forTokenHash hash: [UInt8]) async throws -> (member: MemberAccount, spaces: Set<SpaceID>, personal: SpaceID)? {
        guard let member = try await member(forTokenHash: hash) else { return nil }
        let personal = try await personalSpace(of: member.id)
        return (member, try await spaces(ofSchool: member.school).union([personal]), personal)
    }

    /// What `member`'s space directory lists: their school's spaces
    /// (``spaceListings(ofSchool:)``) and their own personal space, sorted by space. No
    /// other member's personal space is ever listed.
    public func spaceListings(of member: MemberAccount) async throws -> [SpaceDirectory.Entry] {
        var listings = try await spaceListings(ofSchool: member.school)
        do {
            listings.append(
                SpaceDirectory.Entry(
                    space: try await personalSpace(of: member.id), name: PersonalSpace.name(of: member.name), kind: .personal,
                    owner: member.id))
        } catch StoreError.notFound {
            // No such member account (the server's own retention device, ServerDevice): no personal space.
        }
        return listings.sorted { $0.space < $1.space }
    }

    /// Changes of `space` that `vector` lacks, scanning from the start of the space.
    public func changes(in space: SpaceID, missingFrom vector: VersionVector, limit: Int) async throws -> (changes: [Change], more: Bool) {
        let page = try await changes(in: space, missingFrom: vector, after: 0, limit: limit)
        return (page.changes, page.more)
    }
}
