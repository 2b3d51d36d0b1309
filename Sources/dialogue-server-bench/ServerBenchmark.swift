import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Hummingbird
import Logging

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The server benchmarks: a cold sync of a large space into an empty replica over
/// loopback, and many concurrent clients pushing and pulling small batches.
enum ServerBenchmark {
    struct Report {
        var store = ""
        var coldChanges = 0
        var coldSeconds = 0.0
        var clients = 0
        var seconds = 0.0
        var requests = 0
        var errors = 0
        var changesPushed = 0
        var p50Milliseconds = 0.0
        var p99Milliseconds = 0.0

        var json: String {
            let object: [String: Any] = [
                "store": store, "coldChanges": coldChanges, "coldSeconds": (coldSeconds * 1000).rounded() / 1000, "clients": clients,
                "seconds": seconds, "requests": requests, "errors": errors, "requestsPerSecond": Int(Double(requests) / seconds),
                "changesPushedPerSecond": Int(Double(changesPushed) / seconds), "p50Milliseconds": p50Milliseconds,
                "p99Milliseconds": p99Milliseconds,
            ]
            return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }

        var table: String {
            func row(_ label: String, _ value: String) -> String { label.padding(toLength: 46, withPad: " ", startingAt: 0) + value }
            return [
                row("store", store),
                row("cold sync into an empty replica", "\(coldChanges) changes in \(String(format: "%.2f", coldSeconds)) s (target ≤ 2 s)"),
                row("concurrent clients", "\(clients) for \(String(format: "%.0f", seconds)) s"),
                row("  requests (errors)", "\(requests) (\(errors))"),
                row(
                    "  throughput",
                    String(format: "%.0f requests/s, %.0f changes/s", Double(requests) / seconds, Double(changesPushed) / seconds)),
                row("  latency p50 / p99", String(format: "%.1f / %.1f ms", p50Milliseconds, p99Milliseconds)),
            ].joined(separator: "\n")
        }
    }

    static func run(database: String?, coldChanges: Int, clients: Int, seconds: Double) async throws -> Report {
        var logger = Logger(label: "dialogue.bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-server-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store: any SyncStore =
            if let database { try await PostgresSyncStore.connect(url: database, logger: logger) } else {
                try SQLiteSyncStore(path: directory.appendingPathComponent("server.sqlite").path)
            }
        var report = Report()
        report.store = database == nil ? "SQLite" : "PostgreSQL"
        let partnership = try await store.createPartnership(name: "Bench")
        let school = try await store.createSchool(name: "Bench School")
        try await store.addSchool(school.id, toPartnership: partnership.id)
        let member = try await store.createMember(name: "Bench", school: school.id, role: .member)
        let (token, record) = Tokens.issue(for: member.id, label: "bench")
        try await store.storeToken(record)

        let port = 18_500 + Int.random(in: 0..<1000)
        let server = SyncServer(service: SyncService(store: store, logger: logger), metrics: nil, logger: logger)
        let app = Application(router: server.router(), configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        let serverTask = Task { try await app.run() }
        defer { serverTask.cancel() }
        let url = URL(string: "http://127.0.0.1:\(port)")!
        try await waitForHealth(url)

        // Cold sync: a space of `coldChanges` changes, stored directly, pulled by a new replica.
        let coldSpace = partnership.sharedSpace
        try await fill(store, space: coldSpace, changes: coldChanges)
        let replica = try Replica(path: directory.appendingPathComponent("cold.sqlite").path)
        try await replica.addSpace(coldSpace)
        var configuration = SyncClient.Configuration(server: url, token: token)
        configuration.pageSize = 10_000
        let client = SyncClient(configuration: configuration, logger: logger)
        let start = Date()
        let summary = try await client.sync(replica, spaces: [coldSpace])
        report.coldSeconds = Date().timeIntervalSince(start)
        report.coldChanges = summary.pulled

        // Concurrent clients in the school's space: push 5 changes, pull what others wrote.
        report.clients = clients
        report.seconds = seconds
        let space = school.privateSpace
        let deadline = Date().addingTimeInterval(seconds)
        let session = URLSession(configuration: .ephemeral)
        let results = try await withThrowingTaskGroup(of: (latencies: [Double], errors: Int, pushed: Int).self) { group in
            for index in 0..<clients {
                group.addTask {
                    try await clientLoop(index: index, url: url, token: token, space: space, until: deadline, session: session)
                }
            }
            var all: [(latencies: [Double], errors: Int, pushed: Int)] = []
            for try await result in group { all.append(result) }
            return all
        }
        let latencies = results.flatMap(\.latencies).sorted()
        report.requests = latencies.count
        report.errors = results.reduce(0) { $0 + $1.errors }
        report.changesPushed = results.reduce(0) { $0 + $1.pushed }
        if !latencies.isEmpty {
            report.p50Milliseconds = (latencies[latencies.count / 2] * 10_000).rounded() / 10
            report.p99Milliseconds = (latencies[min(latencies.count - 1, latencies.count * 99 / 100)] * 10_000).rounded() / 10
        }
        try await store.close()
        return report
    }

    static func waitForHealth(_ url: URL) async throws {
        for _ in 0..<100 {
            if let (_, response) = try? await URLSession.shared.data(from: url.appendingPathComponent("health")),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SyncClientError.unreachable("the benchmark server did not start")
    }

    /// Stores `count` changes (session fields and summary typing by four authors).
    static func fill(_ store: any SyncStore, space: SpaceID, changes count: Int) async throws {
        var document = SpaceDocument(space: space)
        var random = SystemRandomNumberGenerator()
        let authors = (1...4).map { ReplicaID(rawValue: 0xB000 + UInt64($0))! }
        var batch: [Change] = []
        var sessions: [EntityID] = []
        var made = 0
        let wall = SystemWallClock().millisecondsSinceEpoch() - 1_000_000
        while made < count {
            let context = EditContext(replica: authors[(made / 5000) % 4], timestamp: HLCTimestamp(wallTime: wall + UInt64(made / 100)))
            if sessions.count < 500, made % 100 == 0 {
                let id = EntityID(UUID())
                batch.append(document.create(id, kind: EntityKind.session.rawValue, by: context))
                sessions.append(id)
            } else if made % 3 == 0 {
                batch.append(document.set("title", of: sessions.randomElement(using: &random)!, to: .string("t\(made)"), by: context))
            } else {
                let session = sessions.randomElement(using: &random)!
                let length = document.textSequence("summary", of: session)?.count ?? 0
                batch += try document.editText(
                    "summary", of: session, at: Int.random(in: 0...length, using: &random), insert: "w", by: context)
            }
            made += 1
            if batch.count >= 5000 {
                try await store.append(batch, to: space)
                batch = []
            }
        }
        try await store.append(batch, to: space)
    }

    static func clientLoop(
        index: Int, url: URL, token: String, space: SpaceID, until deadline: Date, session: URLSession
    ) async throws -> (
        latencies: [Double], errors: Int, pushed: Int
    ) {
        let replica = ReplicaID(rawValue: 0xC000 + UInt64(index))!
        var document = SpaceDocument(space: space)
        let entity = EntityID(UUID())
        var latencies: [Double] = []
        var errors = 0
        var pushed = 0
        var have = VersionVector()
        var cursor: Int64 = 0
        var first = true
        let encoder = JSONEncoder()
        while Date() < deadline {
            var changes: [Change] = []
            let context = EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: SystemWallClock().millisecondsSinceEpoch()))
            if first {
                changes.append(document.create(entity, kind: EntityKind.action.rawValue, by: context))
                first = false
            }
            while changes.count < 5 {
                changes.append(document.set("description", of: entity, to: .string("v\(latencies.count)-\(changes.count)"), by: context))
            }
            have[replica] = document.vector[replica]
            let request = SyncRequest(
                replica: replica, spaces: [.init(space: space, have: have, changes: changes, binary: true, after: cursor)], limit: 100,
                binary: true)
            var urlRequest = URLRequest(url: url.appendingPathComponent("v1/sync"))
            urlRequest.httpMethod = "POST"
            urlRequest.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            urlRequest.httpBody = try encoder.encode(request)
            let start = Date()
            do {
                let (data, response) = try await session.data(for: urlRequest)
                latencies.append(Date().timeIntervalSince(start))
                guard (response as? HTTPURLResponse)?.statusCode == 200,
                    let answer = try? JSONDecoder().decode(SyncResponse.self, from: data), let result = answer.spaces.first
                else {
                    errors += 1
                    continue
                }
                pushed += result.accepted
                // Remember what was pulled, so the next request asks only for newer changes.
                for change in try result.allChanges() { have.record(Dot(change.replica, change.lastCounter)) }
                cursor = result.cursor
            } catch {
                errors += 1
            }
        }
        return (latencies, errors, pushed)
    }
}
