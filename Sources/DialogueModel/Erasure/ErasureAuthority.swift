import Foundation

/// Who may erase (issue 13 item 1; docs/PRIVACY.md, "Erasure"): an admin of the space,
/// whose erasure carries the server's ``ErasureApproval``; the author of an insight, for
/// that insight (or one of its fields), with no approval needed; and in a member's
/// personal space (``SpaceDirectory/Kind/personal``), which nobody else holds and no admin
/// may touch, that member, for anything in it, with no approval needed. The same rule at the
/// server's verification and at every replica's verified merge (sync pages, bundles,
/// relays), run after the author's chain verified, like ``AuthorshipRule``. Pure.
public enum ErasureAuthority {
    /// Checks every erasure in a verified run of one device whose certificate names `member`.
    ///
    /// - Parameters:
    ///   - run: the changes of the run, in order (those that are not erasures are skipped).
    ///   - member: the member the run's device is certified for.
    ///   - ring: the server keys trusted, for approvals.
    ///   - personalOwner: the member whose personal space the run is in (as the server's
    ///     records or the signed space directory say), `nil` for a school's or a
    ///     partnership's space.
    ///   - origin: what the checker holds of an entity before the run: its kind and the
    ///     members certified for the devices of its original creations (`nil`: no creation held).
    /// - Throws: ``TrustError/erasureNotPermitted(_:reason:)``, or the approval's own
    ///   failure (`bad_signature`, `untrusted_server_key`).
    public static func check(
        _ run: [Change], member: UUID, trusting ring: ServerKeyRing, personalOwner: UUID?,
        origin: (EntityID) -> (kind: String, creators: Set<UUID>)?
    ) throws(TrustError) {
        for change in run {
            guard case .erase(let erasure) = change.operation else { continue }
            if personalOwner == member, erasure.approval == nil { continue }  // their own notes, whoever wrote them
            if let approval = erasure.approval {
                try approval.verify(for: change, target: erasure.target, trusting: ring)
                continue
            }
            let entity: EntityID
            switch erasure.target {
            case .entity(let erased), .field(let erased, _): entity = erased
            case .contributions:
                throw .erasureNotPermitted(change.id, reason: "erasing a member's contributions needs an admin's approval from the server")
            }
            guard let held = origin(entity) else {
                throw .erasureNotPermitted(change.id, reason: "\(entity) is not held, so its author cannot be known")
            }
            guard held.kind == EntityKind.insight.rawValue else {
                throw .erasureNotPermitted(
                    change.id, reason: "only an admin may erase a \(held.kind); an author may erase their own insight")
            }
            guard held.creators == [member] else {
                throw .erasureNotPermitted(change.id, reason: "\(entity) is not an insight of member \(member.uuidString.lowercased())")
            }
        }
    }

    /// An entity's origin as ``check(_:member:trusting:personalOwner:origin:)`` takes it: its kind and the
    /// members certified for the devices of its original creations (`member` looks one up).
    /// A creator no certificate names counts as nobody (the nil UUID), so the entity is then
    /// never one member's own. One mapping for the server and every replica.
    public static func origin(
        _ origin: AuthorshipRule.Origin?, member: (ReplicaID) -> UUID?
    ) -> (kind: String, creators: Set<UUID>)? {
        guard let origin else { return nil }
        return (origin.kind, Set(origin.creators.map { member($0) ?? nobody }))
    }

    /// Stands for a creator whose certificate is not held.
    static let nobody = UUID(uuid: UUID.nilBytes)
}
