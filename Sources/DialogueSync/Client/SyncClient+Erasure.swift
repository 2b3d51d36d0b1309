import DialogueModel
import Foundation
import Logging

extension SyncClient {
    /// Asks the server to approve `replica`'s device erasing `target` in `space`
    /// (`POST /v1/erasures/approval` with the device's token): it approves for a member
    /// with access `admin` who may use the space, on a device registered to them. Pass the
    /// approval to ``Replica/forget(_:in:approval:)``; every replica that receives the
    /// erasure checks it. The approval is verified here against the pinned server key
    /// before it is returned.
    ///
    /// - Throws: ``SyncClientError/erasureNotPermitted(_:)`` (403 `erasure_not_permitted`),
    ///   ``SyncClientError/notLoggedIn(_:)`` before the first login (nothing sent),
    ///   ``SyncClientError/unverifiedAnswer(_:)`` for an approval that does not verify or
    ///   is for another space, device or target, and the transport's errors as
    ///   ``sync(_:spaces:progress:)`` has them (403 `space_not_permitted` as ``SyncClientError/refused(status:code:message:rejected:)``).
    public func requestErasureApproval(
        space: SpaceID, target: Erasure.Target, for replica: Replica
    ) async throws(SyncClientError) -> ErasureApproval {
        let ring: ServerKeyRing
        do {
            guard let pinned = try replica.serverKeyRing() else { throw SyncClientError.notLoggedIn(replica.id) }
            ring = pinned
        } catch let error as SyncClientError {
            throw error
        } catch let error as ReplicaError {
            throw .local(error)
        } catch {
            throw .local(.storage("\(error)", underlying: error))
        }
        let request = ErasureApprovalRequest(space: space, replica: replica.id, target: Erasure.Target(normalised: target))
        let answer: ErasureApprovalResponse
        do {
            answer = try await exchange(
                request, at: "v1/erasures/approval", answer: ErasureApprovalResponse.self, retryingConflicts: false, progress: nil)
        } catch let error where error.isRefusal(status: 403, serverCode: "erasure_not_permitted") {
            throw .erasureNotPermitted(error.serverMessage ?? "")
        }
        let approval = answer.approval
        do throws(TrustError) { try approval.verify(trusting: ring) } catch {
            throw .unverifiedAnswer("the erasure approval: \(error.code): \(error)")
        }
        guard approval.space == space, approval.replica == replica.id, approval.target == request.target else {
            throw .unverifiedAnswer("the erasure approval is for another space, device or target than asked")
        }
        logger.debug("erasure approved", metadata: ["space.id": "\(space)", "replica.id": "\(replica.id)"])
        return approval
    }
}

extension Erasure.Target {
    /// The target as an erasure holds it (a member's devices sorted, each once).
    init(normalised target: Erasure.Target) {
        self = Erasure(target: target).target
    }
}
