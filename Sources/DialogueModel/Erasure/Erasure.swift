import Foundation

/// What an erasure change (``Operation/erase(_:)``) erases (issue 13, docs/PRIVACY.md,
/// "Erasure"). Applying it drops the content of every change it erases, everywhere, and
/// keeps what merging and the hash chains need: ids, dots, origins, predecessors and each
/// change's content hash (docs/TRUST.md, decision 4).
///
/// Which changes it erases (``SpaceDocument/erases(_:)``):
/// - ``Target/entity(_:)``: every change to the entity, whenever made, before, during or
///   after the erasure: the entity is gone for good and is never shown again.
/// - ``Target/field(_:_:)``: every change to that field the erasure's author had seen or
///   had not seen yet (made concurrently, or offline); changes made after it, by someone
///   who had applied it, are new words and stay.
/// - ``Target/contributions(member:replicas:)``: every change of those devices that is
///   not causally after the erasure, in the space.
public struct Erasure: Hashable, Sendable {
    /// What is erased.
    public enum Target: Hashable, Sendable {
        /// An entity and everything written to it.
        case entity(EntityID)
        /// The history of one field of an entity.
        case field(EntityID, String)
        /// Everything a member's devices wrote in the space (`replicas`: sorted, each once).
        case contributions(member: UUID, replicas: [ReplicaID])
    }

    public var target: Target
    /// The server's consent, needed unless the author erases their own insight
    /// (see ``ErasureApproval``).
    public var approval: ErasureApproval?

    public init(target: Target, approval: ErasureApproval? = nil) {
        if case .contributions(let member, let replicas) = target {
            self.target = .contributions(member: member, replicas: Array(Set(replicas)).sorted())
        } else {
            self.target = target
        }
        self.approval = approval
    }

    /// The entity an erasure change is written on: the erased entity, or for a member's
    /// contributions the nil UUID (the change touches no entity).
    public var entity: EntityID {
        switch target {
        case .entity(let entity), .field(let entity, _): entity
        case .contributions: EntityID(UUID(uuid: UUID.nilBytes))
        }
    }

    /// What makes the erasure malformed, if anything (see ``Target/shapeProblem``).
    var shapeProblem: String? { target.shapeProblem }
}

extension UUID {
    /// The nil UUID's bytes.
    static let nilBytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

extension Erasure.Target {
    /// What makes a target malformed, if anything: a field without a name, or a member's
    /// devices not listed sorted and each once. One rule for erasure changes and for the
    /// approvals the server signs (which must name the same target).
    public var shapeProblem: String? {
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

    /// The frozen canonical bytes (docs/TRUST.md): `0 entity (16) · 1 entity (16) field
    /// (string) · 2 member (16) count replicas (8 LE each)`. Signed by approvals and
    /// hashed into the erasure change's content.
    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter()
        writeCanonical(to: &writer)
        return writer.bytes
    }

    func writeCanonical(to writer: inout ByteWriter) {
        switch self {
        case .entity(let entity):
            writer.byte(0)
            writer.uuid(entity.uuid)
        case .field(let entity, let field):
            writer.byte(1)
            writer.uuid(entity.uuid)
            writer.string(field)
        case .contributions(let member, let replicas):
            writer.byte(2)
            writer.uuid(member)
            writer.varint(replicas.count)
            for replica in replicas { writer.replica(replica) }
        }
    }
}
