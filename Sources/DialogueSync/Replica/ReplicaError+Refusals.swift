import DialogueModel

/// The refusals a replica makes, each named like its ``ReplicaError/Code`` and writing the
/// message a person reads.
extension ReplicaError {
    /// No entity with this identifier exists in the space (or its creation has not arrived).
    public static func entityNotFound(_ id: EntityID) -> ReplicaError {
        ReplicaError(code: .entityNotFound, message: "no entity \(id) in this space", entity: id)
    }

    /// The entity exists but is of another kind than the operation needs (`expected` is
    /// `nil` when the operation needs a kind this version knows and the entity's is not one).
    public static func wrongKind(_ id: EntityID, expected: EntityKind?, found: String) -> ReplicaError {
        let message =
            if let expected {
                "entity \(id) is \(article(found)) \(found), not \(article(expected.rawValue)) \(expected.rawValue)"
            } else {
                "entity \(id) is \(article(found)) \(found), a kind this version of Dialogue does not know; update Dialogue to edit it"
            }
        return ReplicaError(code: .wrongKind, message: message, entity: id)
    }

    /// The field does not exist on this kind of entity, or is not of the type the operation needs.
    public static func invalidField(kind: EntityKind, field: String, reason: String) -> ReplicaError {
        ReplicaError(code: .invalidField, message: "\(kind.rawValue) field '\(field)': \(reason)")
    }

    /// A value the operation cannot accept (empty title, malformed date, …).
    public static func invalidValue(_ reason: String) -> ReplicaError {
        ReplicaError(code: .invalidValue, message: "invalid value: \(reason)")
    }

    /// A position outside the text or list.
    public static func invalidPosition(_ reason: String) -> ReplicaError {
        ReplicaError(code: .invalidPosition, message: "invalid position: \(reason)")
    }

    /// A remote change was refused; the whole batch was refused with it. `code` is the
    /// stable code the server gives the same refusal (`invalid_value`,
    /// `impossible_history`, `unknown_reference`, `conflicting_duplicate`…); `reason` says
    /// what is wrong, for a person.
    public static func changeRejected(_ dot: Dot, code: RejectionCode, reason: String) -> ReplicaError {
        ReplicaError(
            code: .changeRejected, message: "change \(dot) refused (\(code.rawValue): \(reason)); nothing from this batch was stored",
            change: dot, rejection: code)
    }

    /// The space is not held by this replica.
    public static func unknownSpace(_ space: SpaceID) -> ReplicaError {
        ReplicaError(code: .unknownSpace, message: "this replica holds no space \(space)", space: space)
    }

    /// What a person typed for a space (an id or a name) matches no space this replica
    /// holds or its directory lists; `known` lists those, named (see ``NamedSpace``).
    public static func spaceNotFound(_ text: String, known: [NamedSpace]) -> ReplicaError {
        let message =
            known.isEmpty
            ? "no space '\(text)': this replica holds none yet; run `dialogue-client init --space UUID` (or log in to learn your spaces)"
            : "no space '\(text)' among yours: \(known.map(\.description).joined(separator: ", "))"
        return ReplicaError(code: .spaceNotFound, message: message, input: text, candidates: known)
    }

    /// A space name matches several spaces (listed, with their ids): give the id.
    public static func ambiguousSpaceName(_ text: String, matches: [NamedSpace]) -> ReplicaError {
        ReplicaError(
            code: .ambiguousSpaceName,
            message: "several spaces are named '\(text)'; give the id of one: \(matches.map(\.description).joined(separator: ", "))",
            input: text, candidates: matches)
    }

    /// A bundle file could not be read.
    public static func invalidBundle(_ reason: String) -> ReplicaError {
        ReplicaError(code: .invalidBundle, message: "bundle refused: \(reason); nothing was imported")
    }

    /// The database or a file failed (disk full, file damaged, permissions…): `reason` for a
    /// person, `underlying` the error met (GRDB's `DatabaseError`, kept with its result code).
    public static func storage(_ reason: String, underlying: (any Error)? = nil) -> ReplicaError {
        ReplicaError(code: .storage, message: "local storage failed: \(reason)", underlying: underlying)
    }

    /// An edit names `claimed` as its writer, but this device is certified for `certified`
    /// (`nil`: not logged in, so certified for no one). Authorship is derived, not claimed.
    public static func authorNotCertified(claimed: EntityID, certified: EntityID?) -> ReplicaError {
        let message =
            if let certified {
                "the author must be the member this device is certified for (\(certified)), not \(claimed); leave the author out"
            } else {
                "the author must be the member this device is certified for, and this replica is not logged in yet "
                    + "(`dialogue-client login`); leave the author out, or log in first (\(claimed) was given)"
            }
        return ReplicaError(code: .authorNotCertified, message: message, entity: claimed)
    }

    /// Received changes do not verify (docs/TRUST.md, "Verification"): `error` says why,
    /// with its stable code (``trustCode``: `unknown_device`, `bad_signature`,
    /// `revoked_device`, `counter_gap`…). Nothing from the batch was stored.
    public static func unverifiedChanges(_ error: TrustError) -> ReplicaError {
        ReplicaError(
            code: .unverifiedChanges, message: "changes refused (\(error.code)): \(error); nothing from this batch was stored",
            underlying: error)
    }

    /// Signed changes cannot be checked before the first `login` pins the server's key
    /// (code ``Code/notLoggedIn``).
    public static var noPinnedServerKey: ReplicaError {
        ReplicaError(
            code: .notLoggedIn,
            message:
                "signed changes cannot be checked before this replica pins its server's key: log in first (`dialogue-client login`); nothing was stored"
        )
    }

    /// A bundle carries a space this member may not hold (its space directory does not list
    /// it: another school's private space, a partnership it is not in); `name` is the
    /// space's name when the bundle gives one. The whole bundle was refused.
    public static func spaceNotPermitted(_ space: SpaceID, name: String?) -> ReplicaError {
        let carried = name.map { "«\($0)» (\(space))" } ?? "\(space)"
        return ReplicaError(
            code: .spaceNotPermitted,
            message:
                "bundle refused: it carries the space \(carried), which your space directory does not list, so your member may not hold it; nothing was imported",
            space: space)
    }

    /// The operation needs what the first `login` brings (the pinned server key, this
    /// device's certificate, the space directory); `reason` says why (code ``Code/notLoggedIn``).
    public static func loginRequired(_ reason: String) -> ReplicaError {
        ReplicaError(code: .notLoggedIn, message: "\(reason): log in first (`dialogue-client login`)")
    }

    /// A stored row holds what no version of Dialogue writes there (the replica file is
    /// damaged, or was edited by hand): the operation stopped before changing anything.
    /// The row is kept in ``underlying``.
    public static func damagedRow(_ row: DamagedRow) -> ReplicaError {
        ReplicaError(
            code: .damagedReplica,
            message: "the replica file is damaged: \(row), which Dialogue never writes there; nothing was changed. "
                + "Restore the replica from a backup, or move it aside and sync (or import a bundle) into a new one "
                + "(edits this replica never synced are then lost)",
            underlying: row)
    }

    /// This device may not write the erasure asked for (``Replica/forget(_:in:approval:)``):
    /// `error` says why (``trustCode`` `erasure_not_permitted`, or an approval that does not
    /// verify: `bad_signature`, `untrusted_server_key`). Nothing was written.
    public static func erasureRefused(_ error: TrustError) -> ReplicaError {
        ReplicaError(
            code: .erasureNotPermitted, message: "erasure refused (\(error.code)): \(error); nothing was changed", underlying: error)
    }

    /// The damaged row behind a ``Code/damagedReplica`` error.
    public var damaged: DamagedRow? { underlying as? DamagedRow }

    private static func article(_ word: String) -> String {
        word.first.map { "aeiou".contains($0) } == true ? "an" : "a"
    }
}
