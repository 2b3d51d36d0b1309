import DialogueModel
import Foundation

/// The sync protocol, version 2: one round trip pushes what a replica has and the
/// server lacks, and pulls what the server has and the replica lacks, per space, with
/// the signed `ChainHead`s that vouch for them and the statements that let the
/// receiver verify them (docs/TRUST.md). Documented in `docs/PROTOCOL.md` and `openapi.yaml`.
public enum SyncProtocol {
    /// The version every request and response carries (2: changes travel with their
    /// signed heads; version 1 carried none and is refused).
    public static let version = 2
    /// The most changes a response carries per space unless the request asks for fewer:
    /// large enough that a cold sync of a big space takes few round trips (each merged
    /// and materialised once), small enough to keep a response under a few megabytes.
    public static let defaultPageSize = 10_000

    /// The changes of a section: the JSON ones, then those of the base64 binary batch.
    static func changes(_ json: [Change], binary: String?) throws -> [Change] {
        guard let binary else { return json }
        guard let bytes = Data(base64Encoded: binary) else {
            throw CodecError.malformed(section: "changesBinary", reason: "not base64")
        }
        return json + (try ChangeCodec.decode(bytes))
    }

    /// The heads of a section: the JSON ones, then those of the base64 binary list.
    static func heads(_ json: [ChainHead], binary: String?) throws -> [ChainHead] {
        guard let binary else { return json }
        guard let bytes = Data(base64Encoded: binary) else {
            throw CodecError.malformed(section: "headsBinary", reason: "not base64")
        }
        return json + (try ChainHeadCodec.decode([UInt8](bytes)))
    }

    /// The JSON and binary forms of a section's heads.
    static func split(_ heads: [ChainHead], binary: Bool) -> (json: [ChainHead], binary: String?) {
        guard binary, !heads.isEmpty else { return (heads, nil) }
        return ([], Data(ChainHeadCodec.encode(heads)).base64EncodedString())
    }
}

/// `POST /v1/sync` request body.
public struct SyncRequest: Codable, Sendable, Equatable {
    /// Must be ``SyncProtocol/version``.
    public var `protocol`: Int
    /// The syncing replica (for logs; authorisation comes from the token).
    public var replica: ReplicaID?
    public var spaces: [SpaceSync]
    /// The most changes to return per space (at most the server's page size).
    public var limit: Int?
    /// `"binary"` to receive changes as one base64 `ChangeCodec` batch per space
    /// (`changesBinary`), about ten times smaller than JSON; JSON otherwise.
    public var encoding: String?
    /// The `PeopleDirectory.contentDigest` of the people directory the replica holds:
    /// the server sends the directory only when its own differs. Left out, it always comes.
    public var people: String?

    /// One space: what the replica holds, and changes it pushes.
    public struct SpaceSync: Codable, Sendable, Equatable {
        public var space: SpaceID
        /// The replica's version vector for the space, after the pushed changes. Sent as
        /// `have` (JSON object) or, in the binary encoding, as `haveBinary` (base64).
        public var have: VersionVectorText
        /// Changes the server may lack, in causal order.
        public var changes: [Change]
        /// The same, as a base64 `ChangeCodec` batch (instead of, or after, `changes`).
        public var changesBinary: String?
        /// The signed heads of the pushed changes (each author's run ends at one).
        public var heads: [ChainHead]
        /// The same, as a base64 `ChainHeadCodec` list (instead of, or after, `heads`).
        public var headsBinary: String?
        /// The `cursor` of this space from the previous response: the server resumes its
        /// scan there instead of from the start of the space.
        public var after: Int64?
        /// Whether `have` travels in its binary form.
        public var binaryVector: Bool
        /// The device certificates the replica holds, by device: the `issuedAt` of the one
        /// held. The server leaves out of its answer a certificate listed here at the same
        /// or a later `issuedAt` (the replica verifies with the one it holds); left out or
        /// empty, every certificate the page needs comes. Revocations are never left out.
        /// Sent as `certified` (JSON object, like `have`) or, in the binary encoding, as
        /// `certifiedBinary` (base64 of a vector's binary form, `issuedAt` as the counter).
        public var certified: [ReplicaID: Int64]

        public init(
            space: SpaceID, have: VersionVector, changes: [Change] = [], heads: [ChainHead] = [], binary: Bool = false, after: Int64? = nil,
            certified: [ReplicaID: Int64] = [:]
        ) {
            self.space = space
            self.certified = certified.filter { $0.value > 0 }
            self.have = VersionVectorText(vector: have)
            if binary, !changes.isEmpty {
                self.changes = []
                changesBinary = Data(ChangeCodec.encode(changes)).base64EncodedString()
            } else {
                self.changes = changes
            }
            (self.heads, headsBinary) = SyncProtocol.split(heads, binary: binary)
            self.after = after
            binaryVector = binary
        }

        /// Every pushed change, JSON and binary.
        public func allChanges() throws -> [Change] { try SyncProtocol.changes(changes, binary: changesBinary) }

        /// Every pushed head, JSON and binary.
        public func allHeads() throws -> [ChainHead] { try SyncProtocol.heads(heads, binary: headsBinary) }

        enum CodingKeys: String, CodingKey {
            case space, have, haveBinary, changes, changesBinary, heads, headsBinary, after, certified, certifiedBinary
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            space = try container.decode(SpaceID.self, forKey: .space)
            (have, binaryVector) = try VersionVectorText.decode(from: container, json: .have, binary: .haveBinary)
            changes = try container.decode([Change].self, forKey: .changes)
            changesBinary = try container.decodeUnlessNull(String.self, forKey: .changesBinary)
            heads = try container.decodeUnlessNull([ChainHead].self, forKey: .heads) ?? []
            headsBinary = try container.decodeUnlessNull(String.self, forKey: .headsBinary)
            after = try container.decodeUnlessNull(Int64.self, forKey: .after)
            certified = [:]
            if container.contains(.certified) || container.contains(.certifiedBinary) {
                let (held, _) = try VersionVectorText.decode(from: container, json: .certified, binary: .certifiedBinary)
                for dot in held.vector.lastDots {
                    guard let issuedAt = Int64(exactly: dot.counter) else {
                        throw DecodingError.dataCorruptedError(
                            forKey: .certified, in: container, debugDescription: "an issuedAt past the largest time in milliseconds")
                    }
                    certified[dot.replica] = issuedAt
                }
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(space, forKey: .space)
            try have.encode(to: &container, json: .have, binary: binaryVector ? .haveBinary : nil)
            try container.encode(changes, forKey: .changes)
            try container.encodeIfPresent(changesBinary, forKey: .changesBinary)
            if !heads.isEmpty { try container.encode(heads, forKey: .heads) }
            try container.encodeIfPresent(headsBinary, forKey: .headsBinary)
            try container.encodeIfPresent(after, forKey: .after)
            if !certified.isEmpty {
                var vector = VersionVector()
                for (replica, issuedAt) in certified where issuedAt > 0 { vector[replica] = UInt64(issuedAt) }
                try VersionVectorText(vector: vector).encode(
                    to: &container, json: .certified, binary: binaryVector ? .certifiedBinary : nil)
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case `protocol`, replica, spaces, limit, encoding, people
    }

    /// Strict, as `openapi.yaml` says: no `null` for an optional member (leave it out),
    /// `limit` at least 1, `encoding` json or binary.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.protocol = try container.decode(Int.self, forKey: .protocol)
        replica = try container.decodeUnlessNull(ReplicaID.self, forKey: .replica)
        spaces = try container.decode([SpaceSync].self, forKey: .spaces)
        limit = try container.decodeUnlessNull(Int.self, forKey: .limit)
        if let limit, limit < 1 {
            throw DecodingError.dataCorruptedError(forKey: .limit, in: container, debugDescription: "limit must be at least 1")
        }
        encoding = try container.decodeUnlessNull(String.self, forKey: .encoding)
        if let encoding, !["json", "binary"].contains(encoding) {
            throw DecodingError.dataCorruptedError(forKey: .encoding, in: container, debugDescription: "encoding must be json or binary")
        }
        people = try container.decodeUnlessNull(String.self, forKey: .people)
        if let people, people.utf8.count != 64 || !people.allSatisfy(\.isHexDigit) {
            throw DecodingError.dataCorruptedError(forKey: .people, in: container, debugDescription: "people must be 64 hex digits")
        }
    }

    public init(replica: ReplicaID?, spaces: [SpaceSync], limit: Int? = nil, binary: Bool = false, people: String? = nil) {
        self.protocol = SyncProtocol.version
        self.replica = replica
        self.spaces = spaces
        self.limit = limit
        encoding = binary ? "binary" : nil
        self.people = people
    }
}

/// `POST /v1/sync` response body (status 200).
public struct SyncResponse: Codable, Sendable, Equatable {
    public var `protocol`: Int
    public var spaces: [SpaceResult]
    /// The member's space directory, signed by the server's current key (which spaces
    /// the member may hold, with their names).
    public var directory: SpaceDirectory?
    /// Every rotation of the server's key, oldest first: the chain from a pinned older key
    /// to the one that signed ``directory`` and the certificates.
    public var endorsements: [ServerKeyEndorsement]
    /// The schools and members the member may see named, signed by the server's current
    /// key; left out when the request's `people` digest matches it.
    public var people: PeopleDirectory?

    /// One space's outcome.
    public struct SpaceResult: Codable, Sendable, Equatable {
        public var space: SpaceID
        /// Pushed changes stored now.
        public var accepted: Int
        /// Pushed changes the server already held (a retry stores nothing twice).
        public var alreadyHeld: Int
        /// Changes the replica lacks, in causal order, at most the page size.
        public var changes: [Change]
        /// The same as a base64 `ChangeCodec` batch, when the request asked for `binary`.
        public var changesBinary: String?
        /// The signed heads the page's changes end at (each author's run in the page ends
        /// at one), or that vouch for them; changes before signing (docs/TRUST.md,
        /// "Migration") come without.
        public var heads: [ChainHead]
        /// The same, as a base64 `ChainHeadCodec` list, when the request asked for `binary`.
        public var headsBinary: String?
        /// The certificates of the devices that wrote the page's changes.
        public var certificates: [DeviceCertificate]
        /// The revocations of those devices, if any were revoked.
        public var revocations: [DeviceRevocation]
        /// Whether more changes are waiting: sync again with the new vector and `cursor`.
        public var more: Bool
        /// What the server holds of the space after this request: `serverHas` (JSON
        /// object) or, in the binary encoding, `serverHasBinary` (base64).
        public var serverHas: VersionVectorText
        /// Where the next request for this space may resume (`after`).
        public var cursor: Int64
        /// Whether `serverHas` travels in its binary form.
        public var binaryVector: Bool

        public init(
            space: SpaceID, accepted: Int, alreadyHeld: Int, changes: [Change], heads: [ChainHead] = [],
            certificates: [DeviceCertificate] = [], revocations: [DeviceRevocation] = [], more: Bool, serverHas: VersionVector,
            cursor: Int64, binary: Bool = false
        ) {
            (self.heads, headsBinary) = SyncProtocol.split(heads, binary: binary)
            self.certificates = certificates
            self.revocations = revocations
            self.space = space
            self.accepted = accepted
            self.alreadyHeld = alreadyHeld
            if binary {
                self.changes = []
                changesBinary = changes.isEmpty ? nil : Data(ChangeCodec.encode(changes)).base64EncodedString()
            } else {
                self.changes = changes
            }
            self.more = more
            self.serverHas = VersionVectorText(vector: serverHas)
            self.cursor = cursor
            binaryVector = binary
        }

        /// Every returned change, JSON and binary.
        public func allChanges() throws -> [Change] { try SyncProtocol.changes(changes, binary: changesBinary) }

        /// Every returned head, JSON and binary.
        public func allHeads() throws -> [ChainHead] { try SyncProtocol.heads(heads, binary: headsBinary) }

        enum CodingKeys: String, CodingKey {
            case space, accepted, alreadyHeld, changes, changesBinary, heads, headsBinary, certificates, revocations, more, serverHas,
                serverHasBinary, cursor
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            space = try container.decode(SpaceID.self, forKey: .space)
            accepted = try container.decode(Int.self, forKey: .accepted)
            alreadyHeld = try container.decode(Int.self, forKey: .alreadyHeld)
            changes = try container.decode([Change].self, forKey: .changes)
            changesBinary = try container.decodeIfPresent(String.self, forKey: .changesBinary)
            heads = try container.decodeIfPresent([ChainHead].self, forKey: .heads) ?? []
            headsBinary = try container.decodeIfPresent(String.self, forKey: .headsBinary)
            certificates = try container.decodeIfPresent([DeviceCertificate].self, forKey: .certificates) ?? []
            revocations = try container.decodeIfPresent([DeviceRevocation].self, forKey: .revocations) ?? []
            more = try container.decode(Bool.self, forKey: .more)
            (serverHas, binaryVector) = try VersionVectorText.decode(from: container, json: .serverHas, binary: .serverHasBinary)
            cursor = try container.decode(Int64.self, forKey: .cursor)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(space, forKey: .space)
            try container.encode(accepted, forKey: .accepted)
            try container.encode(alreadyHeld, forKey: .alreadyHeld)
            try container.encode(changes, forKey: .changes)
            try container.encodeIfPresent(changesBinary, forKey: .changesBinary)
            try container.encode(heads, forKey: .heads)
            try container.encodeIfPresent(headsBinary, forKey: .headsBinary)
            try container.encode(certificates, forKey: .certificates)
            try container.encode(revocations, forKey: .revocations)
            try container.encode(more, forKey: .more)
            try serverHas.encode(to: &container, json: .serverHas, binary: binaryVector ? .serverHasBinary : nil)
            try container.encode(cursor, forKey: .cursor)
        }
    }

    public init(
        spaces: [SpaceResult], directory: SpaceDirectory? = nil, endorsements: [ServerKeyEndorsement] = [], people: PeopleDirectory? = nil
    ) {
        self.protocol = SyncProtocol.version
        self.spaces = spaces
        self.directory = directory
        self.endorsements = endorsements
        self.people = people
    }

    enum CodingKeys: String, CodingKey { case `protocol`, spaces, directory, endorsements, people }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.protocol = try container.decode(Int.self, forKey: .protocol)
        spaces = try container.decode([SpaceResult].self, forKey: .spaces)
        directory = try container.decodeIfPresent(SpaceDirectory.self, forKey: .directory)
        endorsements = try container.decodeIfPresent([ServerKeyEndorsement].self, forKey: .endorsements) ?? []
        people = try container.decodeIfPresent(PeopleDirectory.self, forKey: .people)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.protocol, forKey: .protocol)
        try container.encode(spaces, forKey: .spaces)
        try container.encodeIfPresent(directory, forKey: .directory)
        try container.encode(endorsements, forKey: .endorsements)
        try container.encodeIfPresent(people, forKey: .people)
    }
}

extension KeyedDecodingContainer {
    /// An optional member: absent is nil, `null` is refused (the OpenAPI document types it
    /// as a value, not as nullable).
    func decodeUnlessNull<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: codingPath + [key], debugDescription: "\(key.stringValue) may be left out but not null"))
        }
        return try decode(type, forKey: key)
    }
}

extension VersionVectorText {
    /// Reads a vector sent either as a JSON object under `json` or as base64 of
    /// ``VersionVector/binary`` under `binary` (exactly one of them), and says which.
    static func decode<Key: CodingKey>(from container: KeyedDecodingContainer<Key>, json: Key, binary: Key) throws -> (Self, Bool) {
        let text = try container.decodeUnlessNull(String.self, forKey: binary)
        guard let text else { return (try container.decode(Self.self, forKey: json), false) }
        guard !container.contains(json) else {
            throw DecodingError.dataCorruptedError(
                forKey: binary, in: container, debugDescription: "send \(json.stringValue) or \(binary.stringValue), not both")
        }
        guard let bytes = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(forKey: binary, in: container, debugDescription: "not base64")
        }
        do {
            return (Self(vector: try VersionVector(binary: [UInt8](bytes))), true)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: binary, in: container, debugDescription: "\(error)")
        }
    }

    /// Writes the vector under `binary` in its binary form when given, else under `json`.
    func encode<Key: CodingKey>(to container: inout KeyedEncodingContainer<Key>, json: Key, binary: Key?) throws {
        if let binary {
            try container.encode(Data(vector.binary).base64EncodedString(), forKey: binary)
        } else {
            try container.encode(self, forKey: json)
        }
    }
}

/// Every error response: an HTTP status and this JSON body with a stable code.
public struct ErrorBody: Codable, Sendable, Equatable {
    public var error: Detail

    public struct Detail: Codable, Sendable, Equatable {
        /// Stable, machine-readable (see ``SyncErrorCode``).
        public var code: String
        /// For a person: what went wrong and what to do.
        public var message: String
        /// For `invalid_changes`: each refused change and why.
        public var rejected: [Rejection]?
    }

    public init(code: SyncErrorCode, message: String, rejected: [Rejection]? = nil) {
        error = Detail(code: code.rawValue, message: message, rejected: rejected)
    }
}

/// A pushed change the server refused, and why.
public struct Rejection: Codable, Sendable, Equatable {
    public var id: Dot
    public var code: String
    public var reason: String

    public init(id: Dot, code: RejectionCode, reason: String) {
        self.id = id
        self.code = code.rawValue
        self.reason = reason
    }
}

/// The stable error codes of error responses.
public enum SyncErrorCode: String, Codable, Sendable, CaseIterable {
    case malformedRequest = "malformed_request"
    /// A change in the request holds a counter or length no replica could store (a
    /// deletion range running past the largest counter); nothing was stored.
    case malformedChange = "malformed_change"
    case unsupportedProtocol = "unsupported_protocol"
    case payloadTooLarge = "payload_too_large"
    case unauthorized
    /// A write with an observer token.
    case forbidden
    /// A space the token may not use: not in the member's space directory (never was, or
    /// no longer: their school left the partnership, their access ended). The same answer
    /// whether or not the space exists. A client stops holding such a space
    /// (``SyncClient/Summary/notPermitted``).
    case spaceNotPermitted = "space_not_permitted"
    case notFound = "not_found"
    case invalidChanges = "invalid_changes"
    case conflict
    case unavailable
    case internalError = "internal_error"
    /// A known path asked with a method it does not answer (the `Allow` header lists those it does).
    case methodNotAllowed = "method_not_allowed"
    /// Too many failed authentications or pushes; retry after the `Retry-After` header's seconds.
    case rateLimited = "rate_limited"
    /// `POST /v1/devices`: the replica id is bound to another device key or member
    /// (`docs/TRUST.md`); nothing changed. The replica must make a new id.
    case replicaTaken = "replica_taken"
    /// The device (or the token it used) was revoked; nothing changed.
    case revokedDevice = "revoked_device"
    /// An erasure its writer may not make (not an admin's approved erasure, nor an author
    /// erasing their own insight), stripped changes no erasure covers (content withheld
    /// by a relay), or an approval asked for by someone who may not have one
    /// (docs/PRIVACY.md, "Erasure"); nothing was stored.
    case erasureNotPermitted = "erasure_not_permitted"
}

/// Why one pushed change was refused.
public enum RejectionCode: String, Codable, Sendable, CaseIterable {
    /// The change names a space other than the section it was sent in.
    case wrongSpace = "wrong_space"
    /// Its counters leave a gap after what the server holds of its author.
    case counterGap = "counter_gap"
    /// The server holds these counters with different content.
    case conflictingDuplicate = "conflicting_duplicate"
    /// It depends on changes the server does not hold.
    case missingDependency = "missing_dependency"
    /// Its timestamp is too far ahead of the server's clock.
    case timestampTooFarAhead = "timestamp_too_far_ahead"
    /// Too large (text or field name over the limits).
    case tooLarge = "too_large"
    /// Structurally invalid (empty operation, zero counter…).
    case malformed
    /// It refers to an element the server does not hold (a text position, a deleted
    /// range, a list item): no replica could apply it.
    case unknownReference = "unknown_reference"
    /// It names, as predecessors, observed dots or an observed vector, what its author
    /// could not have seen: something outside its causal past (its dependencies' closure
    /// and its author's earlier changes).
    case impossibleHistory = "impossible_history"
    /// It breaks its field's descriptor (`FieldDescriptor`): a value the field's rule
    /// refuses (wrong type, unknown term, empty title, malformed date…) or an operation of
    /// another CRDT than the field's. Every replica would refuse it too.
    case invalidValue = "invalid_value"
    /// Its author is no device the server certified (or the certificate offered is not
    /// signed by a key the server trusts): nobody vouches for it (docs/TRUST.md).
    case unknownDevice = "unknown_device"
    /// It is not covered by a chain head its author's certified key signed over exactly
    /// these changes: altered, reordered, ending between signed heads, or a bad signature.
    case badSignature = "bad_signature"
    /// Its author's device was revoked before this counter.
    case revokedDevice = "revoked_device"
    /// It names as the writer (an insight's author) someone else than the member certified
    /// for its signing device, or sets who wrote an entity its device did not create.
    case authorMismatch = "author_mismatch"
    /// An erasure its device's member may not write (no valid approval, and not their own
    /// insight), or a change sent stripped that no erasure covers (content withheld by a
    /// relay). The request is answered 403 `erasure_not_permitted`.
    case erasureNotPermitted = "erasure_not_permitted"

    /// The stable code of a change a document refused: the one mapping shared by the
    /// server's rejections and a replica's ``ReplicaError/changeRejected(_:code:reason:)``.
    public init(_ error: ChangeError) {
        self =
            switch error {
            case .impossibleHistory: .impossibleHistory
            case .invalidValue: .invalidValue
            case .malformed: .malformed
            case .wrongSpace: .wrongSpace
            case .invalidReference, .invalidPosition: .unknownReference
            }
    }
}
