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
