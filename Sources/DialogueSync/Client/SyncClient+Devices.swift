import DialogueModel
import Foundation
import Logging

extension SyncClient {
    /// What a device registration established.
    public struct Registration: Sendable, Equatable {
        /// This device's certificate: who the server says it acts for.
        public var certificate: DeviceCertificate
        /// The server's current key (print its `PublicSigningKey/fingerprint`).
        public var serverKey: PublicSigningKey
        /// The member's space directory.
        public var directory: SpaceDirectory
        /// The key was pinned by this registration (first login, or a deliberate replacement).
        public var pinnedNow: Bool
    }

    /// Registers the replica's device with the server (`POST /v1/devices`): sends the token,
    /// the replica's id and its public key; verifies the answer; pins the server's key on
    /// first use; stores the certificate and the space directory in the replica's trust cache;
    /// starts holding the member's personal space (``Replica/holdPersonalSpace()``).
    ///
    /// A server key that the pinned one does not lead to through endorsements is refused
    /// (``SyncClientError/serverKeyChanged(server:presented:pinned:)``) and nothing changes,
    /// unless `replacingServerKey` is exactly the presented key's fingerprint: then the new
    /// key is pinned and what was learnt under the old one is forgotten.
    ///
    /// - Throws: ``SyncClientError/replicaTaken(_:message:)`` (the id is bound to another key
    ///   or member), ``SyncClientError/revokedDevice(_:message:)``,
    ///   ``SyncClientError/unverifiedAnswer(_:)``, ``SyncClientError/replacementKeyMismatch(given:presented:)``,
    ///   and the transport's errors as ``sync(_:spaces:progress:)`` does.
    @discardableResult
    public func registerDevice(_ replica: Replica, replacingServerKey: String? = nil) async throws(SyncClientError) -> Registration {
        let request = DeviceRegistrationRequest(replica: replica.id, publicKey: replica.devicePublicKey)
        let answer: DeviceRegistrationResponse
        do {
            answer = try await exchange(
                request, at: "v1/devices", answer: DeviceRegistrationResponse.self, retryingConflicts: false, progress: nil)
        } catch let error where error.isRefusal(status: 409, serverCode: "replica_taken") {
            throw .replicaTaken(replica.id, message: error.serverMessage ?? "")
        } catch let error where error.isRefusal(status: 403, serverCode: "revoked_device") {
            throw .revokedDevice(replica.id, message: error.serverMessage ?? "")
        }
        let pinned: ServerKeyRing?
        do { pinned = try replica.serverKeyRing() } catch { throw .local(error) }
        let verified = try answer.verified(
            for: replica.id, key: replica.devicePublicKey, pinned: pinned, replacing: replacingServerKey,
            server: configuration.server.absoluteString)
        do {
            try await replica.adopt(verified)
            try await replica.holdPersonalSpace()
        } catch { throw .local(error) }
        logger.debug(
            "device registered",
            metadata: [
                "replica.id": "\(replica.id)", "server.key": "\(answer.serverKey.fingerprint)", "pinned.now": "\(verified.startsNewPin)",
            ])
        return Registration(
            certificate: verified.certificate, serverKey: answer.serverKey, directory: verified.directory, pinnedNow: verified.startsNewPin)
    }
}
