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
    /// Revokes a token by its public identifier; returns whether one was revoked.
    func revokeToken(id: UUID) async throws -> Bool
    /// The member behind a token hash, unless revoked.
    func member(forTokenHash hash: [UInt8]) async throws -> MemberAccount?
    /// The member behind a token hash and the spaces they may use, in one round trip.
    func access(forTokenHash hash: [UInt8]) async throws -> (member: MemberAccount, spaces: Set<SpaceID>)?
    /// The spaces a school's members may use: its own private space and the shared
    /// spaces of the partnerships it belongs to.
    func spaces(ofSchool school: UUID) async throws -> Set<SpaceID>
    func partnerships() async throws -> [PartnershipAccount]
    func schools() async throws -> [SchoolAccount]
    func members() async throws -> [MemberAccount]
}

/// A page of stored changes and where the scan stopped.
public struct ChangePageResult: Sendable {
    public var changes: [Change]
    public var more: Bool
    public var cursor: Int64
    /// What the store held of the space when the page was read, if the store read it too.
    public var held: VersionVector?

    public init(changes: [Change], more: Bool, cursor: Int64, held: VersionVector? = nil) {
        self.changes = changes
        self.more = more
        self.cursor = cursor
        self.held = held
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

extension SyncStore {
    public func access(forTokenHash hash: [UInt8]) async throws -> (member: MemberAccount, spaces: Set<SpaceID>)? {
        guard let member = try await member(forTokenHash: hash) else { return nil }
        return (member, try await spaces(ofSchool: member.school))
    }

    /// Changes of `space` that `vector` lacks, scanning from the start of the space.
    public func changes(in space: SpaceID, missingFrom vector: VersionVector, limit: Int) async throws -> (changes: [Change], more: Bool) {
        let page = try await changes(in: space, missingFrom: vector, after: 0, limit: limit)
        return (page.changes, page.more)
    }
}
