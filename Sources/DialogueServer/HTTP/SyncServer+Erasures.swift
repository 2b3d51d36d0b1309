import DialogueModel
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

extension SyncServer {
    /// The largest approval request read (one is about 200 bytes; a member's contributions
    /// name their devices).
    public static let maxErasureApprovalBytes = 16 * 1024

    /// `POST /v1/erasures/approval`: the server's signed consent (``ErasureApproval``) to an
    /// admin's device writing one erasure in one space (docs/PROTOCOL.md, docs/PRIVACY.md
    /// "Erasure"). Given when the token's member is an admin, may use the space, and the
    /// named replica is a device registered to them and not revoked; otherwise 403
    /// `erasure_not_permitted` (`space_not_permitted` for a space the token may not use, as
    /// sync answers). Through the door like a push: failed authentications are
    /// rate-limited and audited, and approvals count against the push limits.
    func approveErasure(_ request: Request, _ context: DialogueRequestContext) async throws -> Response {
        let access: SyncService.Access
        do { access = try await authenticate(request, context) } catch let failure as SyncService.Failure { return Self.error(failure) }
        let body: [UInt8]
        do { body = try await readBody(request, context, limit: Self.maxErasureApprovalBytes) } catch { return Self.error(error) }
        let asked: ErasureApprovalRequest
        do { asked = try JSONDecoder().decode(ErasureApprovalRequest.self, from: Data(body)) } catch {
            return Self.error(400, .malformedRequest, "the body is not a valid erasure approval request: \(Self.describe(error))")
        }
        if let problem = asked.target.shapeProblem { return Self.error(400, .malformedRequest, problem) }
        if let presented = Self.bearerToken(request) {
            do { try door.push(address: context.address, token: presented) } catch {
                context.logger.notice(
                    "erasure approval rate-limited", metadata: ["member": "\(access.member.id)", "address": "\(context.address)"])
                return Self.error(Self.limited(error))
            }
        }
        let metadata: Logger.Metadata = [
            "space.id": "\(asked.space)", "replica.id": "\(asked.replica)", "member": "\(access.member.id)",
            "target": "\(asked.target)", "address": "\(context.address)",
        ]
        // The same answer for a space that exists elsewhere and one that does not, as sync gives.
        guard access.spaces.contains(asked.space) else {
            return Self.error(403, .spaceNotPermitted, "this token may not use space \(asked.space)")
        }
        if let refusal = try await erasureApprovalRefusal(asked, member: access.member) {
            context.logger.warning(
                "erasure approval refused", metadata: metadata.merging(["audit": "erasure_not_permitted", "reason": "\(refusal)"]) { $1 })
            return Self.error(403, .erasureNotPermitted, refusal)
        }
        let approval = try await authority.approveErasure(space: asked.space, replica: asked.replica, target: asked.target)
        context.logger.notice("erasure approved", metadata: metadata.merging(["audit": "erasure_approved"]) { $1 })
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(ErasureApprovalResponse(approval: approval)))))
    }

    /// Why `member` may not have an approval for `asked` (in a space they may use), if so:
    /// they are no admin, or the replica is not a device of theirs, or it was revoked.
    private func erasureApprovalRefusal(_ asked: ErasureApprovalRequest, member: MemberAccount) async throws -> String? {
        guard member.access == .admin else {
            return "only an admin may erase this (role \(member.access.rawValue)); an author may erase their own insight without approval"
        }
        let certificate = try await service.statements.certificates(of: [asked.replica], store: service.store)[asked.replica]
        guard let certificate, certificate.member == member.id else {
            return "replica \(asked.replica) is not a device registered to this member; run 'dialogue-client login' on it"
        }
        if try await service.statements.revocations(of: [asked.replica], store: service.store)[asked.replica] != nil {
            return "device \(asked.replica) was revoked"
        }
        return nil
    }
}
