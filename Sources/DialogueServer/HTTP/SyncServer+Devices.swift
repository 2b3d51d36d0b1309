import DialogueModel
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore

extension SyncServer {
    /// The largest registration body read (one is about 150 bytes).
    public static let maxRegistrationBytes = 16 * 1024

    /// `POST /v1/devices`: registers the device of a replica for the token's member and
    /// answers its certificate, the server's key and the member's space directory
    /// (`docs/TRUST.md`, `docs/PROTOCOL.md`). Through the door like a push: failed
    /// authentications are rate-limited and audited, and registrations count against the
    /// push limits.
    func registerDevice(_ request: Request, _ context: DialogueRequestContext) async throws -> Response {
        let token: TokenAccess
        do {
            token = try await authenticated(request, context) { try await service.store.token(forTokenHash: $0) }
        } catch let failure as SyncService.Failure {
            return Self.error(failure)
        }
        let body: [UInt8]
        do { body = try await readBody(request, context, limit: SyncServer.maxRegistrationBytes) } catch { return Self.error(error) }
        // The version first, so an older or newer client is told to update rather than that its body is malformed.
        struct Version: Decodable { var `protocol`: Int? }
        if let version = (try? JSONDecoder().decode(Version.self, from: Data(body)))?.protocol,
            version != DeviceRegistrationRequest.protocolVersion
        {
            return Self.error(
                422, .unsupportedProtocol,
                "this server registers devices with protocol \(DeviceRegistrationRequest.protocolVersion), the request used \(version); update the client"
            )
        }
        let registration: DeviceRegistrationRequest
        do { registration = try JSONDecoder().decode(DeviceRegistrationRequest.self, from: Data(body)) } catch {
            return Self.error(400, .malformedRequest, "the body is not a valid device registration: \(Self.describe(error))")
        }
        if let presented = Self.bearerToken(request) {
            do { try door.push(address: context.address, token: presented) } catch {
                context.logger.notice(
                    "registration rate-limited", metadata: ["member": "\(token.member.id)", "address": "\(context.address)"])
                return Self.error(Self.limited(error))
            }
        }
        let metadata: Logger.Metadata = [
            "replica.id": "\(registration.replica)", "member": "\(token.member.id)", "token.id": "\(token.token)",
            "address": "\(context.address)",
        ]
        do {
            let answer = try await authority.register(registration, token: token)
            service.statements.forget(registration.replica)  // the renewed certificate is the one to send
            Counter(label: "dialogue_devices_registered_total").increment()
            context.logger.info(
                "device registered", metadata: metadata.merging(["key.fingerprint": "\(registration.publicKey.fingerprint)"]) { $1 })
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(answer))))
        } catch let refusal as TrustError {
            // A replica id claimed by another key or member is what a squatter does: audited.
            context.logger.warning(
                "device registration refused", metadata: metadata.merging(["audit": "\(refusal.code)"]) { $1 })
            switch refusal {
            case .replicaTaken: return Self.error(409, .replicaTaken, refusal.description)
            case .revokedDevice: return Self.error(403, .revokedDevice, refusal.description)
            default: throw refusal
            }
        }
    }
}
