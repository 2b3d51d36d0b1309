import DialogueModel

/// Why a replica refused an operation. A refused operation changes nothing.
public enum ReplicaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No entity with this identifier exists in the space (or its creation has not arrived).
    case entityNotFound(EntityID)
    /// The entity exists but is of another kind than the operation needs (`expected` is
    /// `nil` when the operation needs a kind this version knows and the entity's is not one).
    case wrongKind(EntityID, expected: EntityKind?, found: String)
    /// The field does not exist on this kind of entity, or is not of the type the operation needs.
    case invalidField(kind: EntityKind, field: String, reason: String)
    /// A value the operation cannot accept (empty title, malformed date, …).
    case invalidValue(String)
    /// A position outside the text or list.
    case invalidPosition(String)
    /// A remote change was refused; the whole batch was refused with it. `code` is the
    /// stable code the server gives the same refusal (`invalid_value`,
    /// `impossible_history`, `unknown_reference`, `conflicting_duplicate`…); `reason` says
    /// what is wrong, for a person.
    case changeRejected(Dot, code: RejectionCode, reason: String)
    /// The space is not held by this replica.
    case unknownSpace(SpaceID)
    /// What a person typed for a space (an id or a name) matches no space this replica
    /// holds or its directory lists; `known` lists those, named (see ``NamedSpace``).
    case spaceNotFound(String, known: [NamedSpace])
    /// A space name matches several spaces (listed, with their ids): give the id.
    case ambiguousSpaceName(String, matches: [NamedSpace])
    /// A bundle file could not be read.
    case invalidBundle(String)
    /// The database failed (disk full, file damaged, permissions…).
    case storage(String)
    /// An edit names `claimed` as its writer, but this device is certified for `certified`
    /// (`nil`: not logged in, so certified for no one). Authorship is derived, not claimed.
    case authorNotCertified(claimed: EntityID, certified: EntityID?)
    /// Received changes do not verify (docs/TRUST.md, "Verification"): `error` says why,
    /// with its stable code (`code`: `unknown_device`, `bad_signature`, `revoked_device`,
    /// `counter_gap`…). Nothing from the batch was stored.
    case unverifiedChanges(TrustError)
    /// Signed changes cannot be checked before the first `login` pins the server's key.
    case noPinnedServerKey
    /// A bundle carries a space this member may not hold (its space directory does not list
    /// it: another school's private space, a partnership it is not in); `name` is the
    /// space's name when the bundle gives one. The whole bundle was refused.
    case spaceNotPermitted(SpaceID, name: String?)
    /// The operation needs what the first `login` brings (the pinned server key, this
    /// device's certificate, the space directory); `reason` says why.
    case loginRequired(String)
    /// A stored row holds what no version of Dialogue writes there (the replica file is
    /// damaged, or was edited by hand): the operation stopped before changing anything.
    case damagedRow(DamagedRow)
    /// This device may not write the erasure asked for (``Replica/forget(_:in:approval:)``):
    /// `error` says why (`TrustError/code` `erasure_not_permitted`, or an approval that
    /// does not verify: `bad_signature`, `untrusted_server_key`). Nothing was written.
    case erasureRefused(TrustError)

    public var description: String {
        switch self {
        case .entityNotFound(let id): "no entity \(id) in this space"
        case .wrongKind(let id, let expected?, let found):
            "entity \(id) is \(Self.article(found)) \(found), not \(Self.article(expected.rawValue)) \(expected.rawValue)"
        case .wrongKind(let id, nil, let found):
            "entity \(id) is \(Self.article(found)) \(found), a kind this version of Dialogue does not know; update Dialogue to edit it"
        case .invalidField(let kind, let field, let reason): "\(kind.rawValue) field '\(field)': \(reason)"
        case .invalidValue(let reason): "invalid value: \(reason)"
        case .invalidPosition(let reason): "invalid position: \(reason)"
        case .changeRejected(let dot, let code, let reason):
            "change \(dot) refused (\(code.rawValue): \(reason)); nothing from this batch was stored"
        case .unknownSpace(let space): "this replica holds no space \(space)"
        case .spaceNotFound(let text, let known) where known.isEmpty:
            "no space '\(text)': this replica holds none yet; run `dialogue-client init --space UUID` (or log in to learn your spaces)"
        case .spaceNotFound(let text, let known):
            "no space '\(text)' among yours: \(known.map(\.description).joined(separator: ", "))"
        case .ambiguousSpaceName(let text, let matches):
            "several spaces are named '\(text)'; give the id of one: \(matches.map(\.description).joined(separator: ", "))"
        case .invalidBundle(let reason): "bundle refused: \(reason); nothing was imported"
        case .storage(let reason): "local storage failed: \(reason)"
        case .authorNotCertified(let claimed, let certified?):
            "the author must be the member this device is certified for (\(certified)), not \(claimed); leave the author out"
        case .authorNotCertified(let claimed, nil):
            "the author must be the member this device is certified for, and this replica is not logged in yet "
                + "(`dialogue-client login`); leave the author out, or log in first (\(claimed) was given)"
        case .unverifiedChanges(let error):
            "changes refused (\(error.code)): \(error); nothing from this batch was stored"
        case .noPinnedServerKey:
            "signed changes cannot be checked before this replica pins its server's key: log in first (`dialogue-client login`); nothing was stored"
        case .spaceNotPermitted(let space, let name?):
            "bundle refused: it carries the space «\(name)» (\(space)), which your space directory does not list, so your member may not hold it; nothing was imported"
        case .spaceNotPermitted(let space, nil):
            "bundle refused: it carries the space \(space), which your space directory does not list, so your member may not hold it; nothing was imported"
        case .loginRequired(let reason): "\(reason): log in first (`dialogue-client login`)"
        case .erasureRefused(let error): "erasure refused (\(error.code)): \(error); nothing was changed"
        case .damagedRow(let row):
            "the replica file is damaged: \(row), which Dialogue never writes there; nothing was changed. "
                + "Restore the replica from a backup, or move it aside and sync (or import a bundle) into a new one "
                + "(edits this replica never synced are then lost)"
        }
    }

    /// The stable code of a trust refusal (`bad_signature`…), `nil` for other errors.
    public var trustCode: String? {
        switch self {
        case .unverifiedChanges(let error), .erasureRefused(let error): error.code
        default: nil
        }
    }

    /// Maps a failure met reading or writing the database: a damaged row keeps its
    /// details, anything else becomes ``storage(_:)``.
    init(storageFailure error: any Error) {
        switch error {
        case let error as ReplicaError: self = error
        case let row as DamagedRow: self = .damagedRow(row)
        default: self = .storage("\(error)")
        }
    }

    private static func article(_ word: String) -> String {
        word.first.map { "aeiou".contains($0) } == true ? "an" : "a"
    }
}
