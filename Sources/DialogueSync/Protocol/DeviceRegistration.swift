import DialogueModel
import Foundation

/// `POST /v1/devices`: a replica asks the server to certify its device key for its id
/// (docs/TRUST.md, "The server's side"). The token says which member the device acts for.
public struct DeviceRegistrationRequest: Codable, Sendable, Equatable {
    /// The protocol version the request speaks (device registration came with version 2).
    public static let protocolVersion = 2

    public var `protocol`: Int
    public var replica: ReplicaID
    public var publicKey: PublicSigningKey

    public init(replica: ReplicaID, publicKey: PublicSigningKey) {
        self.protocol = Self.protocolVersion
        self.replica = replica
        self.publicKey = publicKey
    }
}

/// The server's answer to a ``DeviceRegistrationRequest``: the device's certificate, the
/// server's current key (and its fingerprint), the endorsements linking its earlier keys to
/// it, and the member's space directory. A replica believes none of it until
/// ``SyncClient/registerDevice(_:replacingServerKey:)`` has verified it against its pinned key.
public struct DeviceRegistrationResponse: Codable, Sendable, Equatable {
    public var certificate: DeviceCertificate
    public var serverKey: PublicSigningKey
    /// `serverKey`'s fingerprint, as the server prints it (`admin server-key`).
    public var fingerprint: String
    /// Each rotation's endorsement (the previous key vouching for the next), oldest first.
    public var endorsements: [ServerKeyEndorsement]
    public var directory: SpaceDirectory

    public init(
        certificate: DeviceCertificate, serverKey: PublicSigningKey, endorsements: [ServerKeyEndorsement], directory: SpaceDirectory
    ) {
        self.certificate = certificate
        self.serverKey = serverKey
        self.fingerprint = serverKey.fingerprint
        self.endorsements = endorsements
        self.directory = directory
    }
}
