import DialogueModel
import Foundation

/// The sync protocol, version 1: one round trip pushes what a replica has and the
/// server lacks, and pulls what the server has and the replica lacks, per space.
/// Documented in `docs/PROTOCOL.md` and `openapi.yaml`.
public enum SyncProtocol {
    /// The version every request and response carries.
    public static let version = 1
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
    /// `"binary"` to receive changes as one base64 ``ChangeCodec`` batch per space
    /// (`changesBinary`), about ten times smaller than JSON; JSON otherwise.
    public var encoding: String?

    /// One space: what the replica holds, and changes it pushes.
    public struct SpaceSync: Codable, Sendable, Equatable {
        public var space: SpaceID
        /// The replica's version vector for the space, after the pushed changes. Sent as
        /// `have` (JSON object) or, in the binary encoding, as `haveBinary` (base64).
        public var have: VersionVectorText
        /// Changes the server may lack, in causal order.
        public var changes: [Change]
        /// The same, as a base64 ``ChangeCodec`` batch (instead of, or after, `changes`).
        public var changesBinary: String?
        /// The `cursor` of this space from the previous response: the server resumes its
        /// scan there instead of from the start of the space.
        public var after: Int64?
        /// Whether `have` travels in its binary form.
        public var binaryVector: Bool

        public init(space: SpaceID, have: VersionVector, changes: [Change] = [], binary: Bool = false, after: Int64? = nil) {
            self.space = space
            self.have = VersionVectorText(vector: have)
            if binary, !changes.isEmpty {
                self.changes = []
                changesBinary = Data(ChangeCodec.encode(changes)).base64EncodedString()
            } else {
                self.changes = changes
            }
            self.after = after
            binaryVector = binary
        }

        /// Every pushed change, JSON and binary.
        public func allChanges() throws -> [Change] { try SyncProtocol.changes(changes, binary: changesBinary) }

        enum CodingKeys: String, CodingKey {
            case space, have, haveBinary, changes, changesBinary, after
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            space = try container.decode(SpaceID.self, forKey: .space)
            (have, binaryVector) = try VersionVectorText.decode(from: container, json: .have, binary: .haveBinary)
            changes = try container.decode([Change].self, forKey: .changes)
            changesBinary = try container.decodeUnlessNull(String.self, forKey: .changesBinary)
            after = try container.decodeUnlessNull(Int64.self, forKey: .after)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(space, forKey: .space)
            try have.encode(to: &container, json: .have, binary: binaryVector ? .haveBinary : nil)
            try container.encode(changes, forKey: .changes)
            try container.encodeIfPresent(changesBinary, forKey: .changesBinary)
            try container.encodeIfPresent(after, forKey: .after)
        }
    }

    enum CodingKeys: String, CodingKey {
        case `protocol`, replica, spaces, limit, encoding
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
    }

    public init(replica: ReplicaID?, spaces: [SpaceSync], limit: Int? = nil, binary: Bool = false) {
        self.protocol = SyncProtocol.version
        self.replica = replica
        self.spaces = spaces
        self.limit = limit
        encoding = binary ? "binary" : nil
    }
}

/// `POST /v1/sync` response body (status 200).
public struct SyncResponse: Codable, Sendable, Equatable {
    public var `protocol`: Int
    public var spaces: [SpaceResult]

    /// One space's outcome.
    public struct SpaceResult: Codable, Sendable, Equatable {
        public var space: SpaceID
        /// Pushed changes stored now.
        public var accepted: Int
        /// Pushed changes the server already held (a retry stores nothing twice).
        public var alreadyHeld: Int
        /// Changes the replica lacks, in causal order, at most the page size.
        public var changes: [Change]
        /// The same as a base64 ``ChangeCodec`` batch, when the request asked for `binary`.
        public var changesBinary: String?
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
            space: SpaceID, accepted: Int, alreadyHeld: Int, changes: [Change], more: Bool, serverHas: VersionVector, cursor: Int64,
            binary: Bool = false
        ) {
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

        enum CodingKeys: String, CodingKey {
            case space, accepted, alreadyHeld, changes, changesBinary, more, serverHas, serverHasBinary, cursor
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            space = try container.decode(SpaceID.self, forKey: .space)
            accepted = try container.decode(Int.self, forKey: .accepted)
            alreadyHeld = try container.decode(Int.self, forKey: .alreadyHeld)
            changes = try container.decode([Change].self, forKey: .changes)
            changesBinary = try container.decodeIfPresent(String.self, forKey: .changesBinary)
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
            try container.encode(more, forKey: .more)
            try serverHas.encode(to: &container, json: .serverHas, binary: binaryVector ? .serverHasBinary : nil)
            try container.encode(cursor, forKey: .cursor)
        }
    }

    public init(spaces: [SpaceResult]) {
        self.protocol = SyncProtocol.version
        self.spaces = spaces
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
    case forbidden
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
    /// It breaks its field's descriptor (``FieldDescriptor``): a value the field's rule
    /// refuses (wrong type, unknown term, empty title, malformed date…) or an operation of
    /// another CRDT than the field's. Every replica would refuse it too.
    case invalidValue = "invalid_value"

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
