import DialogueModel
import Dispatch

/// A local transaction's signing (docs/TRUST.md, "Signing"): its changes linked into the
/// device's chain and a head signed at its end (and every ``Replica/changesPerHead``
/// changes before), started on another core as the transaction begins, so the hashing
/// overlaps the SQLite writes; ``result()`` waits for it. The outcome is that of
/// ``sign(_:from:key:)`` on the calling thread.
final class TransactionSigning: @unchecked Sendable {
    struct Signed {
        var chain: DeviceChain
        var heads: [ChainHead]
    }

    private let done = DispatchSemaphore(value: 0)
    /// Written once by the signing task before it signals `done`; read only after waiting on it.
    private var signed: Result<Signed, TrustError>?

    init(_ changes: [Change], from chain: DeviceChain, key: SigningKeyPair) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            signed = Result { () throws(TrustError) in try Self.sign(changes, from: chain, key: key) }
            done.signal()
        }
    }

    /// The signing's outcome, once it is done.
    func result() -> Result<Signed, TrustError> {
        done.wait()
        done.signal()  // a second call does not wait for ever
        return signed!
    }

    /// Advances `chain` over `changes` (this device's, in counter order, right after it)
    /// and signs a head every ``Replica/changesPerHead`` changes and at the end.
    static func sign(_ changes: [Change], from chain: DeviceChain, key: SigningKeyPair) throws(TrustError) -> Signed {
        var chain = chain
        var heads: [ChainHead] = []
        var start = changes.startIndex
        while start < changes.endIndex {
            // A very large transaction gets a head every `changesPerHead` changes, so pages
            // (cut at heads) and requests stay bounded; a usual one gets one, at its end.
            let end = min(start + Replica.changesPerHead, changes.endIndex)
            try chain.advance(over: changes[start..<end])
            heads.append(chain.head(signedBy: key))
            start = end
        }
        return Signed(chain: chain, heads: heads)
    }
}
