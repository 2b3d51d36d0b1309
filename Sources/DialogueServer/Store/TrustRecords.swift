import DialogueModel
import Foundation

/// One server signing key as the store keeps it (table `server_keys`).
///
/// The private half is in the store: whoever reads the store (or a backup of it) can sign
/// as the server (`docs/DEPLOYMENT.md`, "The server's key").
public struct ServerKeyRecord: Sendable, Equatable {
    /// 1 for the first key, one more at each rotation: the current key has the highest.
    public var generation: Int64
    /// The Ed25519 public key (32 raw bytes).
    public var publicKey: [UInt8]
    /// The Ed25519 private key (32 raw bytes).
    public var privateKey: [UInt8]
    /// Milliseconds since 1970.
    public var createdAt: Int64
    /// When a newer key replaced it (milliseconds since 1970); `nil` for the current key.
    public var retiredAt: Int64?
    /// The JSON of the `ServerKeyEndorsement` that introduced this key, signed by the
    /// previous one; `nil` for the first key.
    public var endorsement: Data?

    public init(
        generation: Int64, publicKey: [UInt8], privateKey: [UInt8], createdAt: Int64, retiredAt: Int64? = nil, endorsement: Data? = nil
    ) {
        self.generation = generation
        self.publicKey = publicKey
        self.privateKey = privateKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
        self.endorsement = endorsement
    }
}

/// A registered device (table `devices`): a replica id bound to a key and a member.
public struct DeviceRecord: Sendable, Equatable {
    /// The primary key: a replica id is bound once, for ever.
    public var replica: ReplicaID
    /// The device's Ed25519 public key (32 raw bytes).
    public var publicKey: [UInt8]
    public var member: UUID
    /// The token the device last registered with (revoking it revokes the device).
    public var token: UUID
    /// When the replica id was first bound (milliseconds since 1970).
    public var registeredAt: Int64
    /// When its token was revoked (milliseconds since 1970).
    public var revokedAt: Int64?
    /// The JSON of the latest `DeviceCertificate` issued to it.
    public var certificate: Data
    /// The JSON of the signed `DeviceRevocation`, once revoked.
    public var revocation: Data?

    public init(
        replica: ReplicaID, publicKey: [UInt8], member: UUID, token: UUID, registeredAt: Int64, revokedAt: Int64? = nil,
        certificate: Data, revocation: Data? = nil
    ) {
        self.replica = replica
        self.publicKey = publicKey
        self.member = member
        self.token = token
        self.registeredAt = registeredAt
        self.revokedAt = revokedAt
        self.certificate = certificate
        self.revocation = revocation
    }
}

/// What ``SyncStore/registerDevice(_:)`` did.
public enum DeviceRegistrationOutcome: Sendable, Equatable {
    /// The replica id was free: it is now bound to the record given.
    case registered(DeviceRecord)
    /// The same key and member registered again: the stored record now has the new
    /// certificate and token (the first registration time is kept).
    case renewed(DeviceRecord)
    /// The replica id is bound to another key or member (the stored record, unchanged).
    case taken(DeviceRecord)
    /// The device was revoked (the stored record, unchanged).
    case revoked(DeviceRecord)
}

/// A device with what `admin list-devices` shows beside it.
public struct DeviceListing: Sendable, Equatable {
    public var device: DeviceRecord
    public var memberName: String
    public var tokenLabel: String
}

/// A device being revoked, as the store hands it to the signer of its revocation.
public struct DeviceRevocationRecord: Sendable, Equatable {
    public var replica: ReplicaID
    /// Milliseconds since 1970.
    public var revokedAt: Int64
    /// Per space, the last counter the store holds of the device (from its vectors).
    public var lastCounters: [SpaceID: UInt64]

    public init(replica: ReplicaID, revokedAt: Int64, lastCounters: [SpaceID: UInt64]) {
        self.replica = replica
        self.revokedAt = revokedAt
        self.lastCounters = lastCounters
    }
}

/// What revoking a token did: the token, and each device revoked with it (with the JSON
/// of its signed revocation).
public struct TokenRevocationResult: Sendable, Equatable {
    public var token: UUID
    public var devices: [(record: DeviceRevocationRecord, statement: Data)]

    public init(token: UUID, devices: [(record: DeviceRevocationRecord, statement: Data)]) {
        self.token = token
        self.devices = devices
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.token == rhs.token && lhs.devices.map(\.record) == rhs.devices.map(\.record)
            && lhs.devices.map(\.statement) == rhs.devices.map(\.statement)
    }
}

/// A valid token's record and its member.
public struct TokenAccess: Sendable, Equatable {
    public var token: UUID
    public var label: String
    public var member: MemberAccount

    public init(token: UUID, label: String, member: MemberAccount) {
        self.token = token
        self.label = label
        self.member = member
    }
}
