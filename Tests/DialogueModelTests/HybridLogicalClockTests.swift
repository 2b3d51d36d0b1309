import DialogueTestSupport
import Synchronization
import Testing

@testable import DialogueModel

/// A wall clock that tests set by hand.
///
/// `HybridLogicalClock` stores its `WallClock` by value, so the clock must be a
/// reference for a test to move time after handing it over. `WallClock` requires
/// `Sendable`; the only mutable state is one `UInt64` inside a `Mutex`, which is itself
/// `Sendable`, so the class is checked `Sendable` without `@unchecked`.
private final class ManualWallClock: WallClock {
    private let milliseconds: Mutex<UInt64>

    init(_ start: UInt64) { milliseconds = Mutex(start) }

    func millisecondsSinceEpoch() -> UInt64 { milliseconds.withLock { $0 } }

    /// Sets the wall time (forwards or backwards).
    func set(_ value: UInt64) { milliseconds.withLock { $0 = value } }

    /// Moves the wall time forwards.
    func advance(by delta: UInt64) { milliseconds.withLock { $0 += delta } }
}

private func ts(_ wallTime: UInt64, _ logical: UInt16 = 0) -> HLCTimestamp {
    HLCTimestamp(wallTime: wallTime, logical: logical)
}

@Suite("HybridLogicalClock")
struct HybridLogicalClockTests {
    // MARK: Timestamps

    @Test func timestampsOrderByWallTimeThenLogical() {
        #expect(ts(1, 0) < ts(1, 1))
        #expect(ts(1, UInt16.max) < ts(2, 0))
        #expect(!(ts(5, 3) < ts(5, 3)))
        #expect(HLCTimestamp.zero == ts(0, 0))
        #expect(ts(1_700_000_000_000, 7).description == "1700000000000.7")
    }

    // MARK: now()

    @Test func firstTimestampIsTheWallTime() {
        let wall = ManualWallClock(1_000)
        var clock = HybridLogicalClock(wall: wall)
        #expect(clock.now() == ts(1_000))
        #expect(clock.last == ts(1_000))
    }

    @Test func logicalCounterIncrementsWithinTheSameMillisecond() {
        let wall = ManualWallClock(1_000)
        var clock = HybridLogicalClock(wall: wall)
        #expect(clock.now() == ts(1_000, 0))
        #expect(clock.now() == ts(1_000, 1))
        #expect(clock.now() == ts(1_000, 2))
        wall.advance(by: 1)
        #expect(clock.now() == ts(1_001, 0), "a new millisecond resets the logical counter")
        #expect(clock.now() == ts(1_001, 1))
    }

    @Test func monotonicWhenTheWallClockGoesBackwards() {
        let wall = ManualWallClock(10_000)
        var clock = HybridLogicalClock(wall: wall)
        let before = clock.now()
        wall.set(4_000)
        let first = clock.now()
        let second = clock.now()
        #expect(first > before)
        #expect(second > first)
        #expect(first == ts(10_000, 1), "the wall time stays at the highest seen; the logical part grows")
        #expect(second == ts(10_000, 2))
        // Once the wall clock passes the last timestamp again, it takes over.
        wall.set(10_005)
        #expect(clock.now() == ts(10_005, 0))
    }

    @Test func resumingFromAPersistedTimestampAheadOfTheWallClock() {
        let wall = ManualWallClock(500)
        var clock = HybridLogicalClock(wall: wall, last: ts(900, 4))
        #expect(clock.now() == ts(900, 5))
    }

    @Test func logicalOverflowBorrowsAMillisecondAndStaysMonotonic() {
        let wall = ManualWallClock(1_000)
        var clock = HybridLogicalClock(wall: wall, last: ts(1_000, UInt16.max - 1))
        let a = clock.now()
        let b = clock.now()
        let c = clock.now()
        #expect(a == ts(1_000, UInt16.max))
        #expect(b == ts(1_001, 0), "logical UInt16.max rolls into wallTime + 1, logical 0")
        #expect(c == ts(1_001, 1), "the wall clock (still 1000) is behind, so the logical part grows again")
        #expect(a < b && b < c)
        wall.set(1_001)
        #expect(clock.now() == ts(1_001, 2))
        wall.set(1_002)
        #expect(clock.now() == ts(1_002, 0))
    }

    @Test func logicalOverflowThroughAFullMillisecondOfEvents() {
        let wall = ManualWallClock(7)
        var clock = HybridLogicalClock(wall: wall)
        var previous = clock.now()
        var backwards = 0
        for _ in 0..<(Int(UInt16.max) + 10) {
            let next = clock.now()
            if next <= previous { backwards += 1 }
            previous = next
        }
        #expect(backwards == 0)
        #expect(previous == ts(8, 9))
    }

    @Test func receiveOverflowAtUInt16MaxRollsIntoTheNextMillisecond() throws {
        let wall = ManualWallClock(1_000)
        var clock = HybridLogicalClock(wall: wall)
        let remote = ts(1_000, UInt16.max)
        let received = try clock.receive(remote)
        #expect(received == ts(1_001, 0))
        #expect(received > remote)
        #expect(clock.now() == ts(1_001, 1))
    }

    // MARK: receive()

    @Test func receiveOfARemoteTimestampAheadAdvancesPastIt() throws {
        let wall = ManualWallClock(1_000_000)
        var clock = HybridLogicalClock(wall: wall)
        _ = clock.now()
        let remote = ts(1_060_000, 5)  // one minute ahead: within the default five minutes
        let received = try clock.receive(remote)
        #expect(received > remote)
        #expect(received == ts(1_060_000, 6))
        #expect(clock.last == received)
        // Local events keep ordering after the remote one, though the wall clock is behind it.
        let next = clock.now()
        #expect(next > remote)
        #expect(next == ts(1_060_000, 7))
    }

    @Test func receiveOfARemoteTimestampBehindUsesTheWallClock() throws {
        let wall = ManualWallClock(50_000)
        var clock = HybridLogicalClock(wall: wall)
        let received = try clock.receive(ts(20_000, 9))
        #expect(received == ts(50_000, 0))
    }

    @Test func receiveWhenLocalIsAheadOfRemoteAndWallClock() throws {
        let wall = ManualWallClock(10_000)
        var clock = HybridLogicalClock(wall: wall, last: ts(12_000, 3))
        let received = try clock.receive(ts(11_000, 40))
        #expect(received == ts(12_000, 4), "the highest of last and remote is advanced")
    }

    @Test func receiveOfEqualWallTimesTakesTheHigherLogicalPart() throws {
        let wall = ManualWallClock(10_000)
        var clock = HybridLogicalClock(wall: wall, last: ts(10_000, 3))
        #expect(try clock.receive(ts(10_000, 8)) == ts(10_000, 9))
        #expect(try clock.receive(ts(10_000, 2)) == ts(10_000, 10))
    }

    @Test func skewedReplicasExchangingTimestampsKeepCausality() throws {
        // Alice's clock runs 3 s ahead of Bob's; Bob's wall clock even goes back once.
        let aliceWall = ManualWallClock(103_000)
        let bobWall = ManualWallClock(100_000)
        var alice = HybridLogicalClock(wall: aliceWall)
        var bob = HybridLogicalClock(wall: bobWall)
        var message = alice.now()
        var history = [message]
        for round in 0..<40 {
            // Bob receives Alice's message, then replies.
            let bobReceived = try bob.receive(message)
            #expect(bobReceived > message, "round \(round)")
            let bobEvent = bob.now()
            #expect(bobEvent > bobReceived)
            bobWall.advance(by: round == 20 ? 0 : 1)
            if round == 10 { bobWall.set(99_000) }
            // Alice receives Bob's reply.
            let aliceReceived = try alice.receive(bobEvent)
            #expect(aliceReceived > bobEvent, "round \(round)")
            message = alice.now()
            #expect(message > aliceReceived)
            aliceWall.advance(by: UInt64(round % 3))
            history += [bobReceived, bobEvent, aliceReceived, message]
        }
        // Every event in the causal chain is strictly later than the one before.
        for (earlier, later) in zip(history, history.dropFirst()) {
            #expect(earlier < later)
        }
    }

    // MARK: Drift bound

    @Test func farFutureRemoteThrowsAndLeavesTheClockUnchanged() {
        let wall = ManualWallClock(1_000)
        var clock = HybridLogicalClock(wall: wall, maxDriftMilliseconds: 5_000)
        let before = clock.now()
        let remote = ts(6_001, 0)
        #expect(throws: ClockError.remoteTooFarAhead(remote: remote, localWallTime: 1_000, maxDriftMilliseconds: 5_000)) {
            try clock.receive(remote)
        }
        #expect(clock.last == before, "a refused remote timestamp must not be adopted")
        #expect(clock.now() == ts(1_000, 1))
    }

    @Test func defaultDriftIsFiveMinutes() {
        let wall = ManualWallClock(1_000_000)
        var clock = HybridLogicalClock(wall: wall)
        #expect(clock.maxDriftMilliseconds == 300_000)
        #expect(clock.accepts(ts(1_300_000, UInt16.max)))
        #expect(!clock.accepts(ts(1_300_001)))
        #expect(clock.acceptanceHorizon() == 1_300_000)  // accepts(t) ⇔ t.wallTime ≤ horizon
        #expect(throws: ClockError.self) { try clock.receive(ts(1_300_001)) }
        #expect(clock.last == .zero)
        #expect(HybridLogicalClock(wall: ManualWallClock(.max - 5)).acceptanceHorizon() == .max)  // saturates
    }

    @Test func driftErrorMessageNamesTheProblem() {
        let error = ClockError.remoteTooFarAhead(remote: ts(9_000), localWallTime: 1_000, maxDriftMilliseconds: 5_000)
        #expect(error.description.contains("8000 ms ahead"))
        #expect(error.description.contains("5000 ms"))
    }

    @Test(
        "accepts agrees with receive",
        arguments: [
            (0, UInt16(0)), (1, 0), (4_999, 3), (5_000, 0), (5_000, UInt16.max), (5_001, 0), (5_002, 0), (1_000_000, 0),
            (UInt64.max - 10_000, 0),
        ] as [(UInt64, UInt16)])
    func acceptsAgreesWithReceive(ahead: UInt64, logical: UInt16) {
        for physical: UInt64 in [0, 10_000] {
            let wall = ManualWallClock(physical)
            var clock = HybridLogicalClock(wall: wall, last: ts(physical / 2, 1), maxDriftMilliseconds: 5_000)
            let remote = ts(physical + ahead, logical)
            let accepted = clock.accepts(remote)
            let before = clock.last
            do {
                let received = try clock.receive(remote)
                #expect(accepted, "receive took \(remote) that accepts refused")
                #expect(received > remote)
            } catch {
                #expect(!accepted, "receive refused \(remote) that accepts took")
                #expect(clock.last == before)
            }
        }
    }

    @Test func acceptsTimestampsBehindTheWallClock() {
        let wall = ManualWallClock(100_000)
        let clock = HybridLogicalClock(wall: wall, maxDriftMilliseconds: 0)
        #expect(clock.accepts(ts(0)))
        #expect(clock.accepts(ts(100_000, UInt16.max)))
        #expect(!clock.accepts(ts(100_001)))
    }

    // MARK: Property

    @Test("every issued timestamp is greater than the previous one", arguments: 0..<150)
    func monotonicUnderRandomScripts(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let start = UInt64.random(in: 1_000_000...2_000_000, using: &random)
        let wall = ManualWallClock(start)
        let drift = UInt64.random(in: 0...10_000, using: &random)
        // Some runs start next to the logical limit so that overflow is exercised.
        let startLogical: UInt16 = Bool.random(using: &random) ? UInt16.max - UInt16.random(in: 0...3, using: &random) : 0
        var clock = HybridLogicalClock(wall: wall, last: ts(start, startLogical), maxDriftMilliseconds: drift)
        var previous = clock.last
        for step in 0..<400 {
            let context = "seed \(seed) step \(step)"
            switch UInt8.random(in: 0..<10, using: &random) {
            case 0..<4:
                let issued = clock.now()
                #expect(issued > previous, "\(context): now() \(issued) after \(previous)")
                #expect(issued.wallTime >= wall.millisecondsSinceEpoch(), "\(context)")
                previous = issued
            case 4..<7:
                let physical = wall.millisecondsSinceEpoch()
                let offset = Int64.random(in: -20_000...Int64(drift) + 2_000, using: &random)
                let remoteWall = offset < 0 ? physical - min(physical, UInt64(-offset)) : physical + UInt64(offset)
                let logical: UInt16 = Bool.random(using: &random) ? UInt16.random(in: 0...5, using: &random) : UInt16.max
                let remote = ts(remoteWall, logical)
                let accepted = clock.accepts(remote)
                do {
                    let received = try clock.receive(remote)
                    #expect(accepted, "\(context): accepts disagrees with receive for \(remote)")
                    #expect(received > previous, "\(context): receive() \(received) after \(previous)")
                    #expect(received > remote, "\(context): receive() \(received) not after remote \(remote)")
                    previous = received
                } catch {
                    #expect(!accepted, "\(context): accepts disagrees with receive for \(remote)")
                    #expect(remote.wallTime - physical > drift, "\(context): refused \(remote) within drift")
                    #expect(clock.last == previous, "\(context): a refused receive changed the clock")
                }
            case 7, 8:
                // The wall clock jumps back (NTP correction) or forwards.
                let jump = UInt64.random(in: 0...30_000, using: &random)
                let physical = wall.millisecondsSinceEpoch()
                wall.set(Bool.random(using: &random) ? physical - min(physical, jump) : physical + jump)
            default:
                wall.advance(by: UInt64.random(in: 0...2, using: &random))
            }
        }
    }

    @Test("a burst issued from the last timestamp matches the clock's own, and advance never moves back")
    func burstFromLastTimestamp() {
        let wall = ManualWallClock(1_000)
        var clock = HybridLogicalClock(wall: wall, last: HLCTimestamp(wallTime: 1_200, logical: UInt16.max - 1))
        var reference = clock
        var last = clock.last
        for physical: UInt64 in [900, 1_200, 1_201, 1_500, 1_500, 1_499] {
            last = HybridLogicalClock<ManualWallClock>.timestamp(after: last, physical: physical)
            #expect(last == reference.now(physical: physical))
        }
        clock.advance(to: last)
        #expect(clock.last == reference.last)
        clock.advance(to: HLCTimestamp(wallTime: 1, logical: 0))
        #expect(clock.last == reference.last, "advance never moves the clock back")
    }
}
