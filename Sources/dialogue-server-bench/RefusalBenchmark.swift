import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Refusal is cheap (issue 11): an honest member pushes to a space of 10,000 changes, alone
/// and then while another member sends refused pushes back to back; its latency should
/// not move, and the server's view of the space should never be rebuilt.
enum RefusalBenchmark {
    struct Report {
        var spaceChanges = 0
        var refusals = 0
        var refusalSeconds = 0.0
        var unexpectedAnswers = 0
        var rebuildsDuringFlood = 0
        var alone = Latency()
        var flooded = Latency()
        /// One change applied to the space's document in place, and to a scratch copy (the
        /// server's way since issue 11), in microseconds: the cost of copying.
        var inPlaceMicroseconds = 0.0
        var scratchMicroseconds = 0.0

        var json: [String: Any] {
            [
                "spaceChanges": spaceChanges, "refusals": refusals, "refusalsPerSecond": Int(Double(refusals) / refusalSeconds),
                "unexpectedAnswers": unexpectedAnswers, "rebuildsDuringFlood": rebuildsDuringFlood, "alone": alone.json,
                "flooded": flooded.json, "inPlaceMicroseconds": inPlaceMicroseconds, "scratchMicroseconds": scratchMicroseconds,
            ]
        }

        var rows: [String] {
            func row(_ label: String, _ value: String) -> String { label.padding(toLength: 50, withPad: " ", startingAt: 0) + value }
            return [
                row(
                    "refused pushes against a space of \(spaceChanges)",
                    String(
                        format: "%d in %.1f s (%.0f/s), %d rebuilds", refusals, refusalSeconds, Double(refusals) / refusalSeconds,
                        rebuildsDuringFlood)),
                row("  honest pushes alone: p50 / p99", String(format: "%.1f / %.1f ms (%d pushes)", alone.p50, alone.p99, alone.count)),
                row(
                    "  honest pushes meanwhile: p50 / p99",
                    String(format: "%.1f / %.1f ms (%d pushes)", flooded.p50, flooded.p99, flooded.count)),
                row(
                    "  one change applied in place / to a scratch copy",
                    String(format: "%.0f / %.0f µs", inPlaceMicroseconds, scratchMicroseconds)),
            ]
        }
    }

    struct Latency {
        var count = 0
        var p50 = 0.0
        var p99 = 0.0

        init(_ seconds: [Double] = []) {
            let sorted = seconds.sorted()
            count = sorted.count
            guard !sorted.isEmpty else { return }
            p50 = (sorted[sorted.count / 2] * 10_000).rounded() / 10
            p99 = (sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 10_000).rounded() / 10
        }

        var json: [String: Any] { ["count": count, "p50Milliseconds": p50, "p99Milliseconds": p99] }
    }

    /// Runs the phase on `space` (filled here with `spaceChanges` changes) of a running server.
    static func run(
        server: SyncServer, store: any SyncStore, url: URL, honestToken: String, attackerToken: String, space: SpaceID, spaceChanges: Int,
        refusals: Int, session: URLSession
    ) async throws -> Report {
        var report = Report()
        report.spaceChanges = spaceChanges
        report.refusals = refusals
        try await ServerBenchmark.fill(store, space: space, changes: spaceChanges, token: honestToken)
        (report.inPlaceMicroseconds, report.scratchMicroseconds) = try await copyCost(store: store, space: space)
        var honest = Honest(space: space)
        try await ServerBenchmark.register(honest.replica, key: honest.signer.key.publicKey, token: honestToken, store: store)
        // The attacker's device is registered and signs what it sends: refused by the server's view.
        let attacker = ChangeSigner()
        let attackerReplica = ReplicaID.random()
        try await ServerBenchmark.register(attackerReplica, key: attacker.key.publicKey, token: attackerToken, store: store)
        _ = try await honest.push(url: url, token: honestToken, session: session)  // builds the server's view once
        var alone: [Double] = []
        for _ in 0..<200 { alone.append(try await honest.push(url: url, token: honestToken, session: session)) }
        report.alone = Latency(alone)

        let rebuildsBefore = await server.service.documentRebuilds
        let clock = ContinuousClock()
        let started = clock.now
        let finished = Finished()
        let flood = Task {
            defer { finished.flag.withLock { $0 = true } }
            var unexpected = 0
            for _ in 0..<refusals {
                let status = try await post(
                    try refused(in: space, by: attackerReplica, signer: attacker), url: url, token: attackerToken, session: session
                ).status
                if status != 422 { unexpected += 1 }
            }
            return unexpected
        }
        var meanwhile: [Double] = []
        repeat {
            meanwhile.append(try await honest.push(url: url, token: honestToken, session: session))
        } while meanwhile.count < 200 || !finished.flag.withLock({ $0 })
        report.unexpectedAnswers = try await flood.value
        let elapsed = clock.now - started
        report.refusalSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        report.flooded = Latency(meanwhile)
        report.rebuildsDuringFlood = await server.service.documentRebuilds - rebuildsBefore
        return report
    }

    /// Applies 200 one-change pushes to the space's document in place, then each to a fresh
    /// scratch copy of it; the mean time per push of each, in microseconds.
    static func copyCost(store: any SyncStore, space: SpaceID) async throws -> (inPlace: Double, scratch: Double) {
        var document = SpaceDocument(space: space)
        var cursor: Int64 = 0
        while true {
            let page = try await store.changes(in: space, missingFrom: VersionVector(), after: cursor, limit: 10_000)
            try document.apply(page.changes)
            cursor = page.cursor
            if !page.more { break }
        }
        var author = Honest(space: space)
        author.document = document
        let changes = (0..<201).map { _ in author.next() }
        let clock = ContinuousClock()
        var inPlace = document
        let start = clock.now
        for change in changes.dropFirst() { try inPlace.apply(change) }
        let inPlaceTime = clock.now - start
        var base = document
        try base.apply(changes[0])
        let scratchStart = clock.now
        for change in changes.dropFirst() {
            var scratch = base  // what SpaceDocuments.check does for every push
            try scratch.apply(change)
            base = scratch
        }
        let scratchTime = clock.now - scratchStart
        func microseconds(_ duration: Duration) -> Double { (Double(duration / .microseconds(1)) / 200).rounded() }
        return (microseconds(inPlaceTime), microseconds(scratchTime))
    }

    /// The honest member's device: each push sets one field of its session.
    struct Honest {
        var document: SpaceDocument
        let replica = ReplicaID.random()
        let entity = EntityID(UUID())
        /// Its device: each push is one signed transaction.
        var signer = ChangeSigner()

        init(space: SpaceID) { document = SpaceDocument(space: space) }

        /// Its next change: the session's creation, then a new title each time.
        mutating func next() -> Change {
            let context = EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: SystemWallClock().millisecondsSinceEpoch()))
            return document.lifecycle(of: entity) == nil
                ? document.create(entity, kind: EntityKind.session.rawValue, by: context)
                : document.set("title", of: entity, to: .string("t\(document.vector[replica])"), by: context)
        }

        /// Pushes one change; returns the latency in seconds (throws unless 200).
        mutating func push(url: URL, token: String, session: URLSession) async throws -> Double {
            let change = next()
            var have = VersionVector()
            have[replica] = document.vector[replica]
            let request = SyncRequest(
                replica: replica, spaces: [.init(space: document.space, have: have, changes: [change], heads: try signer.sign([change]))],
                limit: 1)
            let (status, seconds) = try await post(request, url: url, token: token, session: session)
            guard status == 200 else { throw SyncClientError.unreachable("an honest push answered \(status)") }
            return seconds
        }
    }

    /// A push every check passes but the server's view (its signature too: the attacker's
    /// registered device signs it, at its first counter, as nothing of it is ever stored):
    /// text after an element nobody holds.
    static func refused(in space: SpaceID, by replica: ReplicaID, signer: ChangeSigner) throws -> SyncRequest {
        let change = Change(
            id: Dot(replica, 1), timestamp: HLCTimestamp(wallTime: SystemWallClock().millisecondsSinceEpoch()), space: space,
            entity: EntityID(UUID()), field: "summary", dependencies: [],
            operation: .insertText(originLeft: Dot(.random(), 7), originRight: nil, text: "x"))
        var signer = signer
        return SyncRequest(
            replica: change.replica,
            spaces: [.init(space: space, have: VersionVector(), changes: [change], heads: try signer.sign([change]))], limit: 1)
    }

    static func post(_ request: SyncRequest, url: URL, token: String, session: URLSession) async throws -> (status: Int, seconds: Double) {
        var urlRequest = URLRequest(url: url.appendingPathComponent("v1/sync"))
        urlRequest.httpMethod = "POST"
        urlRequest.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
        urlRequest.httpBody = try JSONEncoder().encode(request)
        let clock = ContinuousClock()
        let start = clock.now
        let (_, response) = try await session.data(for: urlRequest)
        let elapsed = clock.now - start
        return (
            (response as? HTTPURLResponse)?.statusCode ?? 0,
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
    }
}

/// Set once the refused pushes are all answered.
final class Finished: Sendable {
    let flag = Mutex(false)
}
