import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueModel

private typealias F = TrustFixtures

/// A device writing in one space: its changes, one head per transaction.
private struct Writer {
    var key = F.deviceKey
    var chain = DeviceChain(space: F.space1, replica: F.replica)
    var changes: [Change] = []
    var heads: [ChainHead] = []

    /// A transaction of `count` text inserts (3 counters each), signed at its end.
    mutating func transaction(_ count: Int, sign: Bool = true) {
        for _ in 0..<count {
            let change = Change(
                id: Dot(F.replica, chain.counter + 1), timestamp: HLCTimestamp(wallTime: 1_000 + chain.counter),
                space: F.space1, entity: EntityID(UUID()), field: "body",
                operation: .insertText(originLeft: nil, originRight: nil, text: "abc"))
            try! chain.advance(over: change)
            changes.append(change)
        }
        if sign { heads.append(chain.head(signedBy: key)) }
    }
}

@Suite("Trust: ChainVerifier")
struct ChainVerifierTests {
    private var verifier = ChainVerifier(ring: ServerKeyRing(pinned: F.serverKey.publicKey))
    private let genesis = DeviceChain(space: F.space1, replica: F.replica)

    private func writer(transactions: [Int]) -> Writer {
        var writer = Writer()
        for count in transactions { writer.transaction(count) }
        return writer
    }

    @Test mutating func aSignedRunIsAcceptedAndReturnsTheNewPosition() throws {
        let writer = writer(transactions: [2, 1, 3])
        let after = try verifier.verify(
            writer.changes, extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: nil)
        #expect(after == writer.chain)
        #expect(after.counter == 18)
        // In two runs, the second extending the first.
        let middle = try verifier.verify(
            Array(writer.changes[..<3]), extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: nil)
        #expect(middle.counter == 9)
        let end = try verifier.verify(
            Array(writer.changes[3...]), extending: middle, heads: writer.heads, certificate: F.certificate, revocation: nil)
        #expect(end == writer.chain)
        // Nothing new: the held position back, no checks needed.
        #expect(try verifier.verify([], extending: end, heads: [], certificate: nil, revocation: nil) == end)
        #expect(throws: TrustError.counterGap(F.replica, held: 18, first: 1), "changes already held are not taken again") {
            try verifier.verify(writer.changes, extending: end, heads: writer.heads, certificate: F.certificate, revocation: nil)
        }
    }

    @Test mutating func rule1_aDeviceWithoutATrustedCertificateIsUnknown() throws {
        let writer = writer(transactions: [2])
        #expect(throws: TrustError.unknownDevice(F.replica)) {
            try verifier.verify(writer.changes, extending: genesis, heads: writer.heads, certificate: nil, revocation: nil)
        }
        let strangers = DeviceCertificate.issue(
            replica: F.replica, publicKey: F.deviceKey.publicKey, member: F.member, memberName: "Ada", school: F.school,
            schoolName: "Nord", issuedAt: 1, signedBy: SigningKeyPair())
        #expect(throws: TrustError.unknownDevice(F.replica), "a certificate signed by a key not trusted") {
            try verifier.verify(writer.changes, extending: genesis, heads: writer.heads, certificate: strangers, revocation: nil)
        }
        var another = F.certificate
        another.replica = ReplicaID(rawValue: 5)!
        #expect(throws: TrustError.unknownDevice(F.replica), "another device's certificate") {
            try verifier.verify(writer.changes, extending: genesis, heads: writer.heads, certificate: another, revocation: nil)
        }
        var forged = F.certificate
        forged.memberName = "Ben"
        #expect(throws: TrustError.self, "a certificate altered after signing") {
            try verifier.verify(writer.changes, extending: genesis, heads: writer.heads, certificate: forged, revocation: nil)
        }
        // A certificate signed by a rotated-in key, with the endorsement: accepted.
        let ring = try ServerKeyRing(pinned: F.serverKey.publicKey, endorsements: [F.endorsement])
        var rotated = ChainVerifier(ring: ring)
        let certificate = DeviceCertificate.issue(
            replica: F.replica, publicKey: F.deviceKey.publicKey, member: F.member, memberName: "Ada", school: F.school,
            schoolName: "Nord", issuedAt: 2, signedBy: F.newServerKey)
        #expect(
            try rotated.verify(writer.changes, extending: genesis, heads: writer.heads, certificate: certificate, revocation: nil)
                == writer.chain)
    }

    @Test mutating func rule2_aRunMustStartRightAfterWhatIsHeld() throws {
        let writer = writer(transactions: [1, 1, 1])
        #expect(throws: TrustError.counterGap(F.replica, held: 0, first: 4)) {
            try verifier.verify(
                Array(writer.changes[1...]), extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: nil)
        }
        #expect(throws: TrustError.counterGap(F.replica, held: 3, first: 7), "a change missing in the middle") {
            try verifier.verify(
                [writer.changes[0], writer.changes[2]], extending: genesis, heads: writer.heads, certificate: F.certificate,
                revocation: nil)
        }
    }

    @Test mutating func rule3_aRunEndingBetweenSignedHeadsIsRefused() throws {
        var writer = writer(transactions: [2])
        writer.transaction(2, sign: false)
        do {
            _ = try verifier.verify(writer.changes, extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: nil)
            Issue.record("an unsigned tail was accepted")
        } catch {
            #expect(error.code == "bad_signature")
            #expect(error.description.contains("between signed chain heads"))
            #expect(error.description.contains("the last signed counter it reaches is 6"))
        }
        // Its signed prefix alone is accepted.
        #expect(
            try verifier.verify(
                Array(writer.changes[..<2]), extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: nil
            ).counter == 6)
    }

    @Test mutating func rule3_headsSignedByAnotherKeyOrWithAnotherHashAreRefused() throws {
        let writer = writer(transactions: [2, 2])
        var heads = writer.heads
        heads[1] = ChainHead.issue(
            space: F.space1, replica: F.replica, counter: heads[1].counter, hash: heads[1].hash, signedBy: SigningKeyPair())
        #expect(throws: TrustError.self, "signed by a key other than the certified one") {
            try verifier.verify(writer.changes, extending: genesis, heads: heads, certificate: F.certificate, revocation: nil)
        }
        heads = writer.heads
        heads[0].hash = flipping(heads[0].hash, at: 0)
        heads[0] = ChainHead.issue(
            space: F.space1, replica: F.replica, counter: heads[0].counter, hash: heads[0].hash, signedBy: F.deviceKey)
        do {
            _ = try verifier.verify(writer.changes, extending: genesis, heads: heads, certificate: F.certificate, revocation: nil)
            Issue.record("a head with another hash was accepted")
        } catch {
            #expect(error == .badSignature(replica: F.replica, counter: 6, reason: error.reasonForTest))
            #expect(error.description.contains("do not hash to the chain hash"))
        }
        // A head inside a change (counter 5 of the change 4...6).
        let inside = ChainHead.issue(space: F.space1, replica: F.replica, counter: 5, hash: writer.heads[0].hash, signedBy: F.deviceKey)
        #expect(throws: TrustError.self) {
            try verifier.verify(
                writer.changes, extending: genesis, heads: writer.heads + [inside], certificate: F.certificate, revocation: nil)
        }
        // A change repeating the last head's counter after it (found by the property test:
        // it was accepted unlinked, as the run's end seemed signed).
        var repeated = writer.changes[3]
        repeated.operation = .insertText(originLeft: nil, originRight: nil, text: "x")
        repeated.id.counter = 12
        #expect(throws: TrustError.self) {
            try verifier.verify(
                writer.changes + [repeated], extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: nil)
        }
        // Heads of other spaces and replicas are ignored; changes of others are refused.
        let elsewhere = ChainHead.issue(
            space: F.space2, replica: F.replica, counter: 3, hash: Array(repeating: 1, count: 32), signedBy: F.deviceKey)
        #expect(
            try verifier.verify(
                writer.changes, extending: genesis, heads: writer.heads + [elsewhere], certificate: F.certificate,
                revocation: nil) == writer.chain)
        var foreign = writer.changes
        foreign[1].id.replica = ReplicaID(rawValue: 9)!
        #expect(throws: TrustError.self) {
            try verifier.verify(foreign, extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: nil)
        }
    }

    @Test mutating func rule4_aRevokedDeviceKeepsItsEarlierChangesOnly() throws {
        let writer = writer(transactions: [2, 2])
        let revocation = DeviceRevocation.issue(
            replica: F.replica, revokedAt: 5, lastCounters: [F.space1: 6], signedBy: F.serverKey)
        let before = try verifier.verify(
            Array(writer.changes[..<2]), extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: revocation)
        #expect(before.counter == 6)
        #expect(throws: TrustError.revokedDevice(F.replica, lastAccepted: 6, counter: 12)) {
            try verifier.verify(
                Array(writer.changes[2...]), extending: before, heads: writer.heads, certificate: F.certificate,
                revocation: revocation)
        }
        #expect(throws: TrustError.revokedDevice(F.replica, lastAccepted: 6, counter: 12), "a run across the revocation") {
            try verifier.verify(writer.changes, extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: revocation)
        }
        let elsewhere = DeviceRevocation.issue(replica: F.replica, revokedAt: 5, lastCounters: [F.space2: 9], signedBy: F.serverKey)
        #expect(throws: TrustError.revokedDevice(F.replica, lastAccepted: 0, counter: 6), "no counter in this space: nothing valid") {
            try verifier.verify(
                Array(writer.changes[..<2]), extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: elsewhere)
        }
        let forged = DeviceRevocation.issue(replica: F.replica, revokedAt: 5, lastCounters: [F.space1: 6], signedBy: SigningKeyPair())
        #expect(throws: TrustError.self, "a revocation by a key not trusted is refused, not ignored") {
            try verifier.verify(writer.changes, extending: genesis, heads: writer.heads, certificate: F.certificate, revocation: forged)
        }
    }

    // MARK: property

    /// Random honest histories (several devices, spaces, every operation kind, one head per
    /// transaction), cut into runs at random heads, verify at a third party holding only the
    /// certificates; any one-byte alteration of any change's content or counter, or of any
    /// head's signature, is refused.
    @Test(arguments: 0..<12)
    func randomHistoriesVerifyAndEveryAlterationIsRefused(seed: UInt64) throws {
        var random = SplitMix64(seed: 0x7125_7000 + seed)
        let history = SignedHistory.random(using: &random)
        var relay = ChainVerifier(ring: history.ring)  // a third party: keys and certificates only

        /// Verifies every run of the log in order; returns where it ends.
        func verifyAll(
            _ runs: [[Change]], heads: [ChainHead], key: SignedHistory.Key, verifier: inout ChainVerifier
        )
            throws(TrustError) -> DeviceChain
        {
            var held = DeviceChain(space: key.space, replica: key.replica)
            for run in runs {
                held = try verifier.verify(
                    run, extending: held, heads: heads, certificate: history.certificates[key.replica], revocation: nil)
            }
            return held
        }

        // In a fixed order: a dictionary's order changes per process, and the generator with it.
        for key in history.logs.keys.sorted(by: { ($0.space, $0.replica.rawValue) < ($1.space, $1.replica.rawValue) }) {
            let log = history.logs[key]!
            let runs = SignedHistory.runs(of: log, using: &random)
            #expect(try verifyAll(runs, heads: log.heads, key: key, verifier: &relay) == log.chain)

            // Each change altered in turn, everywhere it can be.
            for position in log.changes.indices {
                for (what, altered) in alterations(of: log.changes[position]) {
                    var changes = log.changes
                    changes[position] = altered
                    var fresh = ChainVerifier(ring: history.ring)
                    let altRuns = SignedHistory.runs(of: Self.log(log, changes), using: &random)
                    #expect(
                        throws: TrustError.self,
                        "seed \(seed): \(what) of \(altered.id) accepted; runs \(altRuns.map { $0.map { "\($0.id.counter)+\($0.counterSpan)" } }) heads \(log.heads.map(\.counter))"
                    ) {
                        try verifyAll(altRuns, heads: log.heads, key: key, verifier: &fresh)
                    }
                }
            }
            // One byte of one head's signature.
            let headIndex = Int.random(in: 0..<log.heads.count, using: &random)
            var heads = log.heads
            heads[headIndex].signature = flipping(heads[headIndex].signature, at: Int.random(in: 0..<64, using: &random))
            var fresh = ChainVerifier(ring: history.ring)
            #expect(throws: TrustError.self, "seed \(seed): a head's signature altered") {
                try verifyAll(runs, heads: heads, key: key, verifier: &fresh)
            }
        }
    }

    /// Digests computed ahead (as DialogueSync does, on other cores) change no verdict: on
    /// random histories, every alteration of every change is refused with the same error as
    /// when the verifier hashes as it links, and the honest runs end at the same chain.
    @Test(arguments: 0..<6)
    func digestsComputedAheadGiveTheSameVerdicts(seed: UInt64) throws {
        var random = SplitMix64(seed: 0xD16E_0000 + seed)
        let history = SignedHistory.random(using: &random)

        func verdict(_ runs: [[Change]], heads: [ChainHead], key: SignedHistory.Key, ahead: Bool) -> Result<DeviceChain, TrustError> {
            var verifier = ChainVerifier(ring: history.ring)
            var held = DeviceChain(space: key.space, replica: key.replica)
            do {
                for run in runs {
                    held = try verifier.verify(
                        run, extending: held, heads: heads, certificate: history.certificates[key.replica], revocation: nil,
                        digests: ahead ? ChangeDigest.of(run) : nil)
                }
                return .success(held)
            } catch {
                return .failure(error)
            }
        }

        for key in history.logs.keys.sorted(by: { ($0.space, $0.replica.rawValue) < ($1.space, $1.replica.rawValue) }) {
            let log = history.logs[key]!
            let runs = SignedHistory.runs(of: log, using: &random)
            #expect(verdict(runs, heads: log.heads, key: key, ahead: true) == .success(log.chain))
            for position in log.changes.indices {
                for (what, altered) in alterations(of: log.changes[position]) {
                    var changes = log.changes
                    changes[position] = altered
                    let altRuns = SignedHistory.runs(of: Self.log(log, changes), using: &random)
                    let inline = verdict(altRuns, heads: log.heads, key: key, ahead: false)
                    guard case .failure = inline else {
                        Issue.record("seed \(seed): \(what) of \(altered.id) accepted")
                        continue
                    }
                    #expect(verdict(altRuns, heads: log.heads, key: key, ahead: true) == inline, "seed \(seed): \(what) of \(altered.id)")
                }
            }
        }
    }

    private static func log(_ log: SignedHistory.Log, _ changes: [Change]) -> SignedHistory.Log {
        var copy = log
        copy.changes = changes
        return copy
    }
}

extension TrustError {
    /// The reason of a `badSignature`, to compare the rest of the error.
    var reasonForTest: String {
        if case .badSignature(_, _, let reason) = self { reason } else { "" }
    }
}
