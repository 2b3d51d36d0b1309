import Foundation

/// Authorship is derived, not claimed (docs/TRUST.md, "Authorship"; decision 6 of the
/// design): a field that names a person as the writer may name only the member certified
/// for the device that signed the change, and only the device that created the entity may
/// write it. The same rule at the server's verification and at every replica's verified
/// merge (sync pages, bundles, relays), run after the author's chain verified. Pure.
public enum AuthorshipRule {
    /// The fields that name a person as the writer, by entity kind.
    public static let writerFields: [String: Set<String>] = [EntityKind.insight.rawValue: [Insight.Field.author]]

    /// What the checker holds of an entity: its kind and the devices whose changes created
    /// it (a duplicate creation converges, so there may be several).
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
    /// - Parameter origin: what the checker holds of an entity before the run (`nil`: no
    ///   creation of it is held). Creations earlier in the run count too.
    /// - Throws: ``TrustError/authorMismatch(_:claimed:certified:)`` when a writer field is
    ///   set to anyone else than `member`; ``TrustError/reattributed(_:entity:creators:)``
    ///   when it is set by a device that did not create the entity, or on an entity whose
    ///   creation is not held (a device's own creations always come first in its chain, so
    ///   an honest writer's creation is always held by then).
    public static func check(_ run: [Change], member: UUID, origin: (EntityID) -> Origin?) throws(TrustError) {
        let writerNames = Set(writerFields.values.joined())
        var created: [EntityID: String] = [:]
        for change in run {
            switch change.operation {
            case .create(let kind, _):
                created[change.entity] = kind
            case .set(let value, _) where writerNames.contains(change.field):
                let known: Origin? = created[change.entity].map { Origin(kind: $0, creators: [change.replica]) } ?? origin(change.entity)
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
    /// whose creations of it stand; `nil` when it holds no creation of it.
    public func authorshipOrigin(of entity: EntityID) -> AuthorshipRule.Origin? {
        guard let kind = lifecycle(of: entity)?.kind, let value = kind.value else { return nil }
        return AuthorshipRule.Origin(kind: value, creators: Set(kind.standingDots.map(\.replica)))
    }
}
