/// Changes with the ``ChainHead``s that vouch for them: what a replica sends (a sync page,
/// a bundle's frame) and what a verifying merge takes. Each author's run in ``changes``
/// ends at one of ``heads`` (docs/TRUST.md, "Verification").
public struct SignedChanges: Sendable, Equatable {
    /// The changes, in causal order.
    public var changes: [Change]
    /// The heads covering them (any order; heads of other authors or spaces are ignored).
    public var heads: [ChainHead]

    public init(changes: [Change] = [], heads: [ChainHead] = []) {
        self.changes = changes
        self.heads = heads
    }
}

/// The server's statements about the devices whose changes are offered: their
/// certificates and revocations, as a sync answer or a bundle carries them. A verifier
/// checks each under its pinned ``ServerKeyRing`` before relying on it.
public struct DeviceEvidence: Sendable, Equatable {
    public var certificates: [DeviceCertificate]
    public var revocations: [DeviceRevocation]

    public init(certificates: [DeviceCertificate] = [], revocations: [DeviceRevocation] = []) {
        self.certificates = certificates
        self.revocations = revocations
    }
}
