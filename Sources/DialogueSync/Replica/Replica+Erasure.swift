import DialogueModel
import Foundation
import GRDB
import Logging

/// Erasure (issue 13, item 1; docs/PRIVACY.md, "Erasure"): content removed for good, on
/// this replica now and on every other one and the server as the erasure syncs.
extension Replica {
    /// What ``forget(_:in:approval:)`` did.
    public struct Forgotten: Sendable, Equatable {
        /// The erasure change written (it syncs and travels in bundles like any change).
        public var erasure: Dot
        /// The space it was written in.
        public var space: SpaceID
        /// Changes of this replica's log (and waiting changes) whose content it dropped.
        public var stripped: Int
    }

    /// Erases `target` in `space`: an entity and everything written to it, one field's
    /// history, or every contribution of a member's devices. Written like any local edit
    /// (signed into this device's chain in the space, one transaction), then applied to
    /// this replica's storage in that same transaction: the change log is rewritten without
    /// the erased content (ids, dots and content hashes stay, so every chain still
    /// verifies), waiting changes to an erased entity are stripped, the space's document is
    /// rebuilt from the rewritten log, an erased entity's rows and search entry are deleted
    /// and an erased field's columns emptied, and the write runs with SQLite's
    /// `secure_delete`, the search index merged and the WAL truncated afterwards, so the
    /// content is not recoverable from the replica's files. Others receive the erasure at
    /// their next sync (or bundle import) and apply it the same way.
    ///
    /// Who may erase is one rule, `ErasureAuthority`, checked here against what this
    /// replica holds before anything is written, and again by the server and every replica
    /// that receives the erasure: the author of an insight may erase it (or one of its
    /// fields) with no `approval`, and so may a member anything in their own personal
    /// space; anything else needs the server's `ErasureApproval` for
    /// this device and this target (an admin's: `SyncClient/requestErasureApproval(space:target:)`).
    ///
    /// - Throws: ``ReplicaError/erasureRefused(_:)`` (code `erasure_not_permitted`, or the
    ///   approval's `bad_signature` / `untrusted_server_key`); ``ReplicaError/loginRequired(_:)``
    ///   before the first login; ``ReplicaError/unknownSpace(_:)``;
    ///   ``ReplicaError/entityNotFound(_:)`` for an entity not held or already erased;
    ///   ``ReplicaError/invalidField(kind:field:reason:)`` for a field its kind lacks.
    @discardableResult
    public func forget(_ target: Erasure.Target, in space: SpaceID, approval: ErasureApproval? = nil) throws(ReplicaError) -> Forgotten {
        let erasure = Erasure(target: target, approval: approval)
        if let refusal = try authorityRefusal(of: erasure, in: space) { throw .erasureRefused(refusal) }
        let written: (value: Dot, stripped: Int)
        do {
            written = try editStoring(in: space) { editor in editor.erase(erasure).id }
        } catch {
            throw ReplicaError(storageFailure: error)
        }
        logger.notice("erased", metadata: ["space.id": "\(space)", "erasure": "\(written.value)", "stripped": "\(written.stripped)"])
        return Forgotten(erasure: written.value, space: space, stripped: written.stripped)
    }

    /// Whether erasing `target` in `space` needs the server's approval (an admin's), by the
    /// rule every receiver applies (`ErasureAuthority`): not for an insight this device's
    /// member created, nor for anything in their own personal space. Checks the target as
    /// ``forget(_:in:approval:)`` does.
    ///
    /// - Throws: ``ReplicaError/loginRequired(_:)``, ``ReplicaError/unknownSpace(_:)``,
    ///   ``ReplicaError/entityNotFound(_:)``, ``ReplicaError/invalidField(kind:field:reason:)``.
    public func erasureNeedsApproval(_ target: Erasure.Target, in space: SpaceID) throws(ReplicaError) -> Bool {
        try authorityRefusal(of: Erasure(target: target), in: space) != nil
    }

    /// The rule every receiver applies (``ErasureAuthority``), run before anything is
    /// stored on `erasure` as this device would write it next (its space, device and next
    /// counter): its refusal, or `nil` when permitted. Checks the target first.
    private func authorityRefusal(of erasure: Erasure, in space: SpaceID) throws(ReplicaError) -> TrustError? {
        guard let member = certifiedMember, let ring = try serverKeyRing() else {
            throw .loginRequired("erasing needs this device's certificate and the server's key")
        }
        let (origins, next) = try erasureContext(of: erasure.target, in: space)
        let owner = try personalOwner(of: space)
        let probe = Change(
            id: next, timestamp: .zero, space: space, entity: erasure.entity, field: "", operation: .erase(erasure))
        do throws(TrustError) {
            try ErasureAuthority.check([probe], member: member.uuid, trusting: ring, personalOwner: owner) { origins[$0] }
            return nil
        } catch {
            return error
        }
    }

    /// The member whose personal space `space` is (this device's member's, as the verified
    /// directory lists it), or `nil`.
    private nonisolated func personalOwner(of space: SpaceID) throws(ReplicaError) -> UUID? {
        guard let personal = try personalSpace(), personal.space == space else { return nil }
        return personal.owner
    }

    /// What the rule needs of what the replica holds: the erased entity's kind and creators'
    /// members, and the dot the erasure will have. Checks the entity (held, not erased) and
    /// the field (its kind has it). A function of its own so the space's document is not
    /// kept referenced while the edit changes it (which would copy it).
    private func erasureContext(
        of target: Erasure.Target, in space: SpaceID
    ) throws(ReplicaError) -> (origins: [EntityID: (kind: String, creators: Set<UUID>)], next: Dot) {
        guard let document = try loadedDocument(space) else { throw .unknownSpace(space) }
        var origins: [EntityID: (kind: String, creators: Set<UUID>)] = [:]
        switch target {
        case .entity(let entity), .field(let entity, _):
            guard document.kind(of: entity) != nil, !document.isErased(entity) else { throw .entityNotFound(entity) }
            if case .field(_, let field) = target, let known = document.entityKind(of: entity), known.field(named: field) == nil {
                throw .invalidField(
                    kind: known, field: field,
                    reason: "no such field (fields: \(known.fields.map { $0.name }.joined(separator: ", ")))")
            }
            origins[entity] = ErasureAuthority.origin(document.authorshipOrigin(of: entity)) { replica in
                (try? self.certificate(of: replica))??.member
            }
        case .contributions:
            break
        }
        return (origins, Dot(id, document.vector[id] + 1))
    }

    /// Checkpoints and truncates the WAL once an erasure has committed (``SecureErase``,
    /// which retries while the checkpointer or a reader is in the way, and logs if it
    /// cannot).
    func truncateWALAfterErasure() {
        database.writeWithoutTransaction { db in SecureErase.truncateWAL(db, logger: logger) }
    }
}
