import DialogueModel
import Foundation

/// `POST /v1/erasures/approval` (docs/PROTOCOL.md, "Erasure approval"): a device of an
/// admin asks the server for its signed consent (`ErasureApproval`) to write one
/// erasure in one space. The token says which member asks; `replica` must be a device
/// registered to that member and not revoked.
public struct ErasureApprovalRequest: Codable, Sendable, Equatable {
    public var space: SpaceID
    /// The device that will write the erasure (the approval names it).
    public var replica: ReplicaID
    /// What will be erased.
    public var target: Erasure.Target

    public init(space: SpaceID, replica: ReplicaID, target: Erasure.Target) {
        self.space = space
        self.replica = replica
        self.target = target
    }
}

/// The server's answer to an ``ErasureApprovalRequest``: the approval, signed by its
/// current key, which the erasure change carries.
public struct ErasureApprovalResponse: Codable, Sendable, Equatable {
    public var approval: ErasureApproval

    public init(approval: ErasureApproval) {
        self.approval = approval
    }
}
