import Foundation

/// Authorship is derived, not claimed (docs/TRUST.md, "Authorship"; decision 6 of the
/// design): a field that names a person as the writer may name only the member certified
/// for the device that signed the change, and only the device that created the entity may
/// write it. The same rule at the server's verification and at every replica's verified
/// merge (sync pages, bundles, relays), run after the author's chain verified. Pure.
public enum AuthorshipRule {
    /// The fields that name a person as the writer, by entity kind.
    public static let writerFields: [String: Set<String>] = [EntityKind.insight.rawValue: [Insight.Field.author]]

    /// What the checker holds of an entity: its kind and the devices of its original
    /// creations (``EntityLifecycle/originalCreations``: a `create` that overwrote nothing;
    /// a re-creation after a delete is not one, so it never takes an entity over).
    public struct Origin: Sendable, Equatable {
        public var kind: String
        public var creators: Set<ReplicaID>

        public init(kind: String, creators: Set<ReplicaID>) {
            self.kind = kind
            self.creators = creators
        }
    }

    /// Checks a verified run of one device (its changes in one space, in counter order)
    /// whose certificate names `member`.
    ///
    /// - Parameters:
    ///   - run: one device's verified changes in one space, in order.
    ///   - member: the member that device's certificate names.
    ///   - origin: what the checker holds of an entity before the run (`nil`: no
    ///     original creation of it is held). Original creations earlier in the run count too.
    ///   - refusingSecondCreations: refuse an original creation of an entity with writer
    ///     fields (an insight) when one by another device is held. The server does (it
    ///     orders what everyone receives, and honest ids are fresh, so a second one is
    ///     always a claim on someone else's entity); a replica does not, since what it
    ///     receives first depends on who handed it what: a bundle from the claimant would
    ///     otherwise lock the true author's changes out. It shows the authorship as
    ///     disputed instead.
    /// - Throws: ``TrustError/authorMismatch(_:claimed:certified:)`` when a writer field is
    ///   set to anyone else than `member`; ``TrustError/reattributed(_:entity:creators:)``
    ///   when it is set by a device that did not originally create the entity, or on an
    ///   entity whose creation is not held (a device's own creations always come first in
    ///   its chain, so an honest writer's creation is always held by then), or for a second
    ///   creation the server refuses.
    public static func check(
        _ run: [Change], member: UUID, refusingSecondCreations: Bool = false, origin: (EntityID) -> Origin?
    ) throws(TrustError) {
        let writerNames = Set(writerFields.values.joined())
        var created: [EntityID: String] = [:]
        for change in run {
            switch change.operation {
            case .create(let kind, let predecessors) where predecessors.isEmpty:
                if refusingSecondCreations, writerFields[kind] != nil, let held = origin(change.entity),
                    !held.creators.subtracting([change.replica]).isEmpty
                {
                    throw .reattributed(change.id, entity: change.entity, creators: held.creators.sorted())
                }
                created[change.entity] = kind
            case .set(let value, _) where writerNames.contains(change.field):
                var known = origin(change.entity)
                if let kind = created[change.entity] {
                    known = Origin(kind: kind, creators: (known?.creators ?? []).union([change.replica]))
                }
                if let known, writerFields[known.kind]?.contains(change.field) != true { continue }  // not a writer field of this kind
                if case .reference(let claimed) = value, claimed.uuid != member {
                    throw .authorMismatch(change.id, claimed: claimed.uuid, certified: member)
                }
                guard let known, known.creators.contains(change.replica) else {
                    throw .reattributed(change.id, entity: change.entity, creators: origin(change.entity)?.creators.sorted() ?? [])
                }
            default:
                continue
            }
        }
    }
}

extension SpaceDocument {
    /// What this document holds of `entity` for ``AuthorshipRule``: its kind and the devices
    /// of its original creations; `nil` when it holds no original creation of it.
    public func authorshipOrigin(of entity: EntityID) -> AuthorshipRule.Origin? {
        guard let lifecycle = lifecycle(of: entity), let kind = lifecycle.kind.value, !lifecycle.originalCreations.isEmpty else {
            return nil
        }
        return AuthorshipRule.Origin(kind: kind, creators: Set(lifecycle.originalCreators))
    }
}
