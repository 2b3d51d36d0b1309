/// Whether an edit is covered by its device's signature (docs/TRUST.md, "Hash chains",
/// "Migration"). Decided the same way by a replica's `history` and the server's subject
/// access report (``classify(_:signedUpTo:legacy:)``).
public enum HistorySigning: String, Sendable, Hashable, Codable {
    /// A ``ChainHead`` signed by the device covers the change: the device's key vouches for
    /// it, as it stands, in its place in the device's chain.
    case signed
    /// Accepted without a signature as written before signing existed: at or below the
    /// space's legacy vector (the server's record of what it held before signing; a
    /// replica's `unsigned_legacy` marks). Its author is the server's word, not a signature.
    case unsignedLegacy
    /// No signed head held covers it and it was not accepted as legacy (merged without
    /// verification, by a replica that had not logged in).
    case unsigned

    /// How a person reads it: "signed", "unsigned, before protocol 2", "unsigned".
    public var displayName: String {
        switch self {
        case .signed: "signed"
        case .unsignedLegacy: "unsigned, before protocol 2"
        case .unsigned: "unsigned"
        }
    }

    /// How `change` is vouched for: legacy when its first counter is in one of its device's
    /// `legacy` ranges (the mark stays even once the device's later heads chain over it: it
    /// was accepted unsigned), else signed when the device's highest signed counter
    /// (`signedUpTo`: a verified head vouches for its whole chain up to it) reaches the
    /// change's last counter, else unsigned.
    public static func classify(
        _ change: Change, signedUpTo: [ReplicaID: UInt64], legacy: [ReplicaID: [ClosedRange<UInt64>]]
    ) -> HistorySigning {
        if legacy[change.replica]?.contains(where: { $0.contains(change.id.counter) }) == true { return .unsignedLegacy }
        return change.lastCounter <= (signedUpTo[change.replica] ?? 0) ? .signed : .unsigned
    }
}
