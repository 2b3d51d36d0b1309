import Foundation
import Testing

@testable import DialogueModel

@Suite("Trust: the server key ring")
struct TrustKeyRingTests {
    private let first = SigningKeyPair()
    private let second = SigningKeyPair()
    private let third = SigningKeyPair()

    private func endorse(_ new: SigningKeyPair, by previous: SigningKeyPair, at time: Int64 = 1) -> ServerKeyEndorsement {
        .issue(newKey: new.publicKey, issuedAt: time, signedBy: previous)
    }

    @Test func aPinnedRingTrustsOnlyThePinnedKey() {
        let ring = ServerKeyRing(pinned: first.publicKey)
        #expect(ring.trusts(first.publicKey))
        #expect(!ring.trusts(second.publicKey))
        #expect(ring.newestKey == first.publicKey)
        #expect(ring.keys == [first.publicKey])
    }

    /// Two rotations: first → second → third. A replica pinned to the first key trusts
    /// certificates signed by the third, in whatever order the endorsements arrive.
    @Test(arguments: [false, true])
    func endorsementChainsOfLengthTwoAreFollowed(newestFirst: Bool) throws {
        let chain = [endorse(second, by: first), endorse(third, by: second)]
        let ring = try ServerKeyRing(pinned: first.publicKey).adopting(newestFirst ? chain.reversed() : chain)
        #expect(ring.trusts(second.publicKey))
        #expect(ring.trusts(third.publicKey))
        #expect(ring.newestKey == third.publicKey)
        #expect(ring.keys == [first.publicKey, second.publicKey, third.publicKey])
        let certificate = DeviceCertificate.issue(
            replica: TrustFixtures.replica, publicKey: TrustFixtures.deviceKey.publicKey, member: TrustFixtures.member,
            memberName: "Ada", school: TrustFixtures.school, schoolName: "Nord", issuedAt: 5, signedBy: third)
        try certificate.verify(trusting: ring)
        #expect(throws: TrustError.self) { try certificate.verify(trusting: ServerKeyRing(pinned: first.publicKey)) }
    }

    @Test func endorsementsAlreadyHeldAreIgnored() throws {
        let chain = [endorse(second, by: first), endorse(third, by: second)]
        let ring = try ServerKeyRing(pinned: first.publicKey).adopting(chain)
        let again = try ring.adopting(chain + [endorse(second, by: first, at: 9)])
        #expect(again == ring)
    }

    @Test func anEndorsementFromAnUntrustedKeyIsRefused() throws {
        let ring = ServerKeyRing(pinned: first.publicKey)
        // second endorses third, but nothing links second to the pinned key.
        #expect(
            throws: TrustError.untrustedServerKey(
                presented: third.publicKey.fingerprint, pinned: first.publicKey.fingerprint)
        ) { try ring.adopting([endorse(third, by: second)]) }
        // A key endorsing itself into trust: refused too.
        #expect(throws: TrustError.self) { try ring.adopting([endorse(second, by: second)]) }
    }

    @Test func anEndorsementWithABadSignatureIsRefusedAndNothingAdopted() throws {
        let ring = ServerKeyRing(pinned: first.publicKey)
        var forged = endorse(third, by: second)
        forged.signature = flipping(forged.signature, at: 10)
        do {
            _ = try ring.adopting([endorse(second, by: first), forged])
            Issue.record("a forged endorsement was adopted")
        } catch {
            #expect(error.code == "bad_signature")
        }
        // Claiming the pinned key signed, without its signature.
        var claimed = endorse(second, by: third)
        claimed.previousKey = first.publicKey
        #expect(throws: TrustError.self) { try ring.adopting([claimed]) }
        #expect(!ring.trusts(second.publicKey))
    }

    @Test func theRingRoundTripsThroughJSONAndRevalidates() throws {
        let ring = try ServerKeyRing(pinned: first.publicKey, endorsements: [endorse(second, by: first)])
        let json = try JSONEncoder().encode(ring)
        #expect(try JSONDecoder().decode(ServerKeyRing.self, from: json) == ring)
        // A cached ring whose endorsement was tampered with does not load.
        var object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        object["pinned"] = third.publicKey.base64
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(ServerKeyRing.self, from: JSONSerialization.data(withJSONObject: object))
        }
    }
}
