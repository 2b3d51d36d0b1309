/// Decides whether a run of one device's changes in one space may be accepted
/// (docs/TRUST.md, "Verification"): the same code at the server, at every replica's
/// merge, at bundle import and for changes relayed by a third party. Pure: it needs only
/// the pinned ``ServerKeyRing``, the author's certificate and revocation, and what the
/// verifier holds of the author's chain.
///
/// A run of replica R in space S is accepted when
/// 1. R has a certificate verifying under a trusted server key (else `unknown_device`);
/// 2. it starts right after what the verifier holds of R (else `counter_gap`);
/// 3. every ``ChainHead`` of R in S at a counter the run passes carries the chain hash
///    recomputed there and R's certified key's signature, and the run ends at such a head
///    (else `bad_signature`);
/// 4. R was not revoked before the run's last counter in S (else `revoked_device`).
///
/// One signature check per head (and one per certificate or revocation, remembered), not
/// per change. Nothing is accepted in part: a refusal means the caller stores nothing.
public struct ChainVerifier: Sendable {
    /// The server keys trusted.
    public let ring: ServerKeyRing
    /// Certificates and revocations already verified, so each costs one check.
    private var verifiedCertificates: Set<DeviceCertificate> = []
    private var verifiedRevocations: Set<DeviceRevocation> = []

    public init(ring: ServerKeyRing) {
        self.ring = ring
    }

    /// Verifies `changes` (R's, in S, in counter order) against `held` (where the verifier
    /// stands in R's chain in S) and returns where the chain stands after them.
    ///
    /// - Parameters:
    ///   - changes: R's changes in counter order, the first right after `held.counter`
    ///     (the caller drops those it already holds: every change offered is verified).
    ///   - held: what the verifier holds of R in S (``DeviceChain/init(space:replica:)`` for nothing).
    ///   - heads: the heads offered; only R's in S at counters the run passes are checked
    ///     (others are ignored, so a page's heads can be passed whole).
    ///   - certificate: R's certificate, or `nil` when none is known.
    ///   - revocation: R's revocation, or `nil` when R is not known to be revoked.
    ///   - digests: the changes' digests when computed ahead (``ChangeDigest/of(_:)``, by
    ///     the verifier itself, e.g. on another core), else `nil`: they are computed here.
    ///     The outcome is the same either way.
    /// - Returns: the chain after the run (`held` itself when nothing is new).
    /// - Throws: ``TrustError``; nothing is accepted then.
    public mutating func verify(
        _ changes: [Change], extending held: DeviceChain, heads: [ChainHead], certificate: DeviceCertificate?,
        revocation: DeviceRevocation?, digests: [ChangeDigest]? = nil
    ) throws(TrustError) -> DeviceChain {
        let replica = held.replica
        let space = held.space
        if let foreign = changes.first(where: { $0.replica != replica || $0.space != space }) {
            throw .badSignature(
                replica: foreign.replica, counter: foreign.id.counter,
                reason: "change \(foreign.id) in space \(foreign.space) was offered as one of \(replica)'s in space \(space)")
        }
        guard !changes.isEmpty else { return held }
        let run = changes[...]

        // 1. A certificate for R under a trusted key.
        guard let certificate, certificate.replica == replica else { throw .unknownDevice(replica) }
        try check(certificate)

        // 2. The run follows on from what is held (and each change from the previous).
        guard let first = run.first, first.id.counter == held.counter &+ 1 else {
            throw .counterGap(replica, held: held.counter, first: run.first?.id.counter ?? 0)
        }

        // 4 (before hashing, as it is cheap). Not revoked before the run's end.
        let end = run.last!.lastCounter
        if let revocation {
            guard revocation.replica == replica else {
                throw .badSignature(
                    replica: replica, counter: nil,
                    reason: "the revocation offered is of device \(revocation.replica), not \(replica)")
            }
            try check(revocation)
            let lastValid = revocation.lastCounter(in: space)
            if end > lastValid { throw .revokedDevice(replica, lastAccepted: lastValid, counter: end) }
        }

        // 3. Every head passed matches the chain recomputed, the run ends at one.
        return try Self.link(run, digests: digests, extending: held, heads: heads, key: certificate.publicKey)
    }

    /// Verifies a run of this device's own changes (a replica receiving back what it
    /// wrote): as ``verify(_:extending:heads:certificate:revocation:digests:)``, but the heads
    /// must be signed by `deviceKey` itself, so no certificate is needed.
    public func verify(
        _ changes: [Change], extending held: DeviceChain, heads: [ChainHead], signedBy deviceKey: PublicSigningKey,
        digests: [ChangeDigest]? = nil
    ) throws(TrustError) -> DeviceChain {
        if let foreign = changes.first(where: { $0.replica != held.replica || $0.space != held.space }) {
            throw .badSignature(
                replica: foreign.replica, counter: foreign.id.counter,
                reason: "change \(foreign.id) in space \(foreign.space) was offered as one of \(held.replica)'s in space \(held.space)")
        }
        guard let first = changes.first else { return held }
        guard first.id.counter == held.counter &+ 1 else { throw .counterGap(held.replica, held: held.counter, first: first.id.counter) }
        return try Self.link(changes[...], digests: digests, extending: held, heads: heads, key: deviceKey)
    }

    /// Rule 3: links the run (non-empty, starting right after `held`), checking every head
    /// of its author it passes against the chain recomputed and `key`; the run must end at one.
    private static func link(
        _ run: ArraySlice<Change>, digests: [ChangeDigest]?, extending held: DeviceChain, heads: [ChainHead], key: PublicSigningKey
    ) throws(TrustError) -> DeviceChain {
        if let digests { precondition(digests.count == run.count, "one digest per change") }
        func advance(_ chain: inout DeviceChain, over range: some RangeExpression<Int>) throws(TrustError) {
            if let digests { try chain.advance(over: run[range], digests: digests[range]) } else { try chain.advance(over: run[range]) }
        }
        let replica = held.replica
        let space = held.space
        let end = run.last!.lastCounter
        let passed = heads.filter { $0.replica == replica && $0.space == space && $0.counter > held.counter && $0.counter <= end }
            .sorted { $0.counter < $1.counter }
        var chain = held
        var lastSigned = held.counter
        var nextHead = passed.startIndex
        var segmentStart = run.startIndex
        for index in run.indices {
            let changeEnd = run[index].lastCounter
            guard nextHead < passed.endIndex, passed[nextHead].counter <= changeEnd else { continue }
            // The heads up to this change's end: link the segment once, then check them.
            try advance(&chain, over: segmentStart...index)
            segmentStart = index + 1
            while nextHead < passed.endIndex, passed[nextHead].counter <= changeEnd {
                let head = passed[nextHead]
                guard head.counter == changeEnd else {
                    throw .badSignature(
                        replica: replica, counter: head.counter,
                        reason:
                            "a chain head is signed at counter \(head.counter), inside change \(run[index].id) (which ends at \(changeEnd))"
                    )
                }
                guard head.hash == chain.hash else {
                    throw .badSignature(
                        replica: replica, counter: head.counter,
                        reason:
                            "the changes up to counter \(head.counter) do not hash to the chain hash their author signed: a change was altered, dropped or reordered"
                    )
                }
                try head.verify(signedBy: key)
                lastSigned = head.counter
                nextHead += 1
            }
        }
        // Every change linked (a change after the last head passed would end the run
        // unsigned, even one claiming a counter already passed).
        guard segmentStart == run.endIndex, lastSigned == end else {
            // Link the rest, so a gap or a foreign change is reported as such first.
            try advance(&chain, over: segmentStart...)
            throw .badSignature(
                replica: replica, counter: end,
                reason:
                    "the run ends at counter \(end), between signed chain heads (the last signed counter it reaches is \(lastSigned)): its last changes are not signed"
            )
        }
        return chain
    }

    private mutating func check(_ certificate: DeviceCertificate) throws(TrustError) {
        guard !verifiedCertificates.contains(certificate) else { return }
        do {
            try certificate.verify(trusting: ring)
        } catch .untrustedServerKey {
            throw .unknownDevice(certificate.replica)
        }
        verifiedCertificates.insert(certificate)
    }

    private mutating func check(_ revocation: DeviceRevocation) throws(TrustError) {
        guard !verifiedRevocations.contains(revocation) else { return }
        try revocation.verify(trusting: ring)
        verifiedRevocations.insert(revocation)
    }
}
