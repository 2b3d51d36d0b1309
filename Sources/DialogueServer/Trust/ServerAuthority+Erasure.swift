import DialogueModel
import DialogueSync
import Foundation

extension ServerAuthority {
    /// The server's consent to `replica` writing an erasure of `target` in `space`, signed
    /// now by the current key (docs/TRUST.md, `dialogue/erasure-approval/1`). Who may have
    /// one is the caller's to check (``SyncServer``'s `POST /v1/erasures/approval`).
    public func approveErasure(space: SpaceID, replica: ReplicaID, target: Erasure.Target) async throws -> ErasureApproval {
        let keys = try await keys()
        return ErasureApproval.issue(
            space: space, replica: replica, target: target, issuedAt: Int64(clamping: wallClock.millisecondsSinceEpoch()),
            signedBy: keys.current)
    }
}

extension Erasure.Target {
    /// What makes a target unfit to approve: a field without a name, or a member's devices
    /// not listed sorted and each once (the erasure change lists them so, and the approval
    /// must name the same target).
    var approvalProblem: String? {
        switch self {
        case .entity: nil
        case .field(_, let field): field.isEmpty ? "an erased field needs a name" : nil
        case .contributions(_, let replicas):
            if replicas.isEmpty {
                "an erasure of contributions names no device"
            } else if zip(replicas, replicas.dropFirst()).contains(where: { $0 >= $1 }) {
                "the devices of an erasure of contributions must be sorted, each once"
            } else {
                nil
            }
        }
    }
}
