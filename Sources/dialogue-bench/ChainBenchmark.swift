import DialogueModel
import Foundation

/// The hash chain alone (docs/TRUST.md, "Hash chains"), on one core: nanoseconds per
/// change to link a clustered editing log in transactions of 100 (three SHA-256 per
/// change), and that split into the digests (two, independent per change: what the merge
/// and a large local transaction compute on another core) and the links (one, in order).
enum ChainBenchmark {
    static func run(changes count: Int, runs: Int) throws {
        let replica = ReplicaID(rawValue: 0xC4A1)!
        var document = SpaceDocument(space: ReplicaBenchmark.space)
        document.journal = []
        let session = EntityID(UUID(uuidString: "5e55104e-0000-4000-8000-000000000001")!)
        var wall: UInt64 = 1_700_000_000_000
        _ = document.create(
            session, kind: EntityKind.session.rawValue, by: EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: wall)))
        for index in 1..<count {
            wall += 1
            let field = index % 2 == 0 ? DialogueSession.Field.focus : DialogueSession.Field.status
            let value = index % 2 == 0 ? "again \(index)" : ["planned", "held", "closed"][index % 3]
            _ = document.set(
                field, of: session, to: .string(value), by: EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: wall)))
        }
        let changes = document.journal!
        func nanosecondsPerChange(_ body: () throws -> Void) rethrows -> Double {
            var samples: [Double] = []
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(changes.count))
            }
            return ReplicaBenchmark.median(samples)
        }
        func transactions(_ body: (Range<Int>) throws -> Void) rethrows {
            var index = 0
            while index < changes.count {
                try body(index..<min(index + 100, changes.count))
                index += 100
            }
        }
        let whole = try nanosecondsPerChange {
            var chain = DeviceChain(space: ReplicaBenchmark.space, replica: replica)
            try transactions { try chain.advance(over: changes[$0]) }
        }
        var digests: [ChangeDigest] = []
        let digesting = nanosecondsPerChange { digests = ChangeDigest.of(changes) }
        let linking = try nanosecondsPerChange {
            var chain = DeviceChain(space: ReplicaBenchmark.space, replica: replica)
            try transactions { try chain.advance(over: changes[$0], digests: digests[$0]) }
        }
        print(
            String(
                format: "chain of %d changes, medians of %d runs (ns/change): linked whole %.0f; digests alone %.0f; links alone %.0f",
                changes.count, runs, whole, digesting, linking))
    }
}
