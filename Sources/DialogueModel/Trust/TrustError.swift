import Foundation

/// Why a signed statement, a device or a run of signed changes was refused. A refusal
/// changes nothing. ``code`` is stable (HTTP bodies and CLI messages carry it); the
/// description is for people.
public enum TrustError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No certificate that verifies under a trusted server key is held for the replica.
    case unknownDevice(ReplicaID)
    /// A signature does not verify, a signed chain hash differs from the one recomputed,
    /// or a run ends where its author signed nothing. `counter` is the position concerned
    /// (`nil` for a statement that is not about a counter); `reason` says which check failed.
    case badSignature(replica: ReplicaID?, counter: UInt64?, reason: String)
    /// The device was revoked. `lastAccepted` is the last counter the server accepted from
    /// it in the space concerned and `counter` the one refused (`nil` where no change is
    /// concerned, as at registration).
    case revokedDevice(ReplicaID, lastAccepted: UInt64?, counter: UInt64?)
    /// The replica id is already bound to another key or member.
    case replicaTaken(ReplicaID)
    /// A field naming the writer names someone else than the member certified for the
    /// signing device.
    case authorMismatch(Dot, claimed: UUID, certified: UUID)
    /// A field naming the writer of `entity` is set by a device that did not create it
    /// (`creators`: the devices whose creation of it is held; empty when none is): an
    /// attempt to re-attribute someone else's writing. Its code is `author_mismatch` too.
    case reattributed(Dot, entity: EntityID, creators: [ReplicaID])
    /// A statement is signed by a server key that neither is the pinned one nor is linked
    /// to it by endorsements. Both fingerprints are given, as ssh does.
    case untrustedServerKey(presented: String, pinned: String)
    /// A run does not start right after what the verifier holds of its author.
    case counterGap(ReplicaID, held: UInt64, first: UInt64)
    /// Bytes that should be a key are not one.
    case invalidKey(reason: String)
    /// An erasure its author may not write: neither approved by the server (an admin's)
    /// nor the author's own insight (``ErasureAuthority``).
    case erasureNotPermitted(Dot, reason: String)

    /// The stable code: `unknown_device`, `bad_signature`, `revoked_device`,
    /// `replica_taken`, `author_mismatch`, `untrusted_server_key`, `counter_gap`, `invalid_key`,
    /// `erasure_not_permitted`.
    public var code: String {
        switch self {
        case .unknownDevice: "unknown_device"
        case .badSignature: "bad_signature"
        case .revokedDevice: "revoked_device"
        case .replicaTaken: "replica_taken"
        case .authorMismatch, .reattributed: "author_mismatch"
        case .untrustedServerKey: "untrusted_server_key"
        case .counterGap: "counter_gap"
        case .invalidKey: "invalid_key"
        case .erasureNotPermitted: "erasure_not_permitted"
        }
    }

    /// The change concerned, when the refusal names one.
    public var dot: Dot? {
        switch self {
        case .authorMismatch(let dot, _, _), .reattributed(let dot, _, _), .erasureNotPermitted(let dot, _): dot
        default: nil
        }
    }

    /// The replica concerned, when there is one.
    public var replica: ReplicaID? {
        switch self {
        case .unknownDevice(let replica), .revokedDevice(let replica, _, _), .replicaTaken(let replica),
            .counterGap(let replica, _, _):
            replica
        case .badSignature(let replica, _, _): replica
        case .authorMismatch(let dot, _, _), .reattributed(let dot, _, _), .erasureNotPermitted(let dot, _): dot.replica
        case .untrustedServerKey, .invalidKey: nil
        }
    }

    public var description: String {
        switch self {
        case .unknownDevice(let replica):
            "device \(replica) is unknown: no certificate signed by a trusted server key is held for it"
        case .badSignature(let replica, let counter, let reason):
            switch (replica, counter) {
            case (let replica?, let counter?): "bad signature for device \(replica) at counter \(counter): \(reason)"
            case (let replica?, nil): "bad signature for device \(replica): \(reason)"
            default: "bad signature: \(reason)"
            }
        case .revokedDevice(let replica, let lastAccepted, let counter):
            switch (lastAccepted, counter) {
            case (let last?, let counter?):
                "device \(replica) was revoked: its changes after counter \(last) are refused, and this one reaches \(counter)"
            default: "device \(replica) was revoked"
            }
        case .replicaTaken(let replica):
            "replica id \(replica) is already bound to another device key or member; create a new replica"
        case .authorMismatch(let dot, let claimed, let certified):
            "change \(dot) names \(claimed.uuidString.lowercased()) as its author, but its device is certified for member \(certified.uuidString.lowercased())"
        case .reattributed(let dot, let entity, let creators):
            creators.isEmpty
                ? "change \(dot) sets who wrote \(entity), but no creation of it is held: only the device that created it may"
                : "change \(dot) sets who wrote \(entity), which device \(creators.map(\.description).joined(separator: ", ")) created: only its creator may"
        case .untrustedServerKey(let presented, let pinned):
            "the server's key has changed: it presented \(presented), but this replica pinned \(pinned) and no endorsement links them; someone may be impersonating the server (if the key was replaced on purpose, log in again with --replace-server-key \(presented))"
        case .counterGap(let replica, let held, let first):
            "changes of device \(replica) start at counter \(first), but \(held) is held: send \(held + 1) first"
        case .invalidKey(let reason): "invalid key: \(reason)"
        case .erasureNotPermitted(let dot, let reason): "erasure \(dot) is not permitted: \(reason)"
        }
    }
}
