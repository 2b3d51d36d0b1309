import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Hummingbird
import Logging

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The server benchmarks: a cold sync of a large space into an empty replica over
/// loopback, and many concurrent clients pushing and pulling small batches.
enum ServerBenchmark {
    /// What many clients saw in one phase.
    struct Load {
        /// Each client's sync interval (nil: back to back, as fast as the server answers).
        var intervalMilliseconds: Int?
        var seconds = 0.0
        var requests = 0
        var errors = 0
        var changesPushed = 0
        var changesPulled = 0
        /// Device certificates the answers carried (a client lists those it holds, so few).
        var certificatesReceived = 0
        var p50Milliseconds = 0.0
        var p99Milliseconds = 0.0

        var requestsPerSecond: Double { Double(requests) / seconds }

        var json: [String: Any] {
            [
                "intervalMilliseconds": intervalMilliseconds ?? 0, "seconds": seconds, "requests": requests, "errors": errors,
                "requestsPerSecond": Int(requestsPerSecond), "changesPushedPerSecond": Int(Double(changesPushed) / seconds),
                "changesPulledPerSecond": Int(Double(changesPulled) / seconds), "certificatesReceived": certificatesReceived,
                "p50Milliseconds": p50Milliseconds, "p99Milliseconds": p99Milliseconds,
            ]
        }
    }

    struct Report {
        var store = ""
        var coldChanges = 0
        var coldSeconds = 0.0
        var clients = 0
        var paced = Load()
        var saturated = Load()
        var refusal: RefusalBenchmark.Report?
        var errors: Int { paced.errors + saturated.errors + (refusal.map { $0.unexpectedAnswers + $0.rebuildsDuringFlood } ?? 0) }

        var json: String {
            let object: [String: Any] = [
                "store": store, "coldChanges": coldChanges, "coldSeconds": (coldSeconds * 1000).rounded() / 1000, "clients": clients,
                "paced": paced.json, "saturated": saturated.json, "refusal": refusal?.json ?? [:],
            ]
            return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }

        var table: String {
            func row(_ label: String, _ value: String) -> String { label.padding(toLength: 50, withPad: " ", startingAt: 0) + value }
            func rows(_ title: String, _ load: Load) -> [String] {
                [
                    row(title, "\(clients) clients for \(String(format: "%.0f", load.seconds)) s"),
                    row("  requests (errors)", "\(load.requests) (\(load.errors))"),
                    row(
                        "  throughput",
                        String(
                            format: "%.0f requests/s; changes %.0f/s pushed, %.0f/s pulled", load.requestsPerSecond,
                            Double(load.changesPushed) / load.seconds, Double(load.changesPulled) / load.seconds)),
                    row("  latency p50 / p99", String(format: "%.1f / %.1f ms", load.p50Milliseconds, load.p99Milliseconds)),
                    row(
                        "  certificates received",
                        String(
                            format: "%d (%.2f per answer)", load.certificatesReceived,
                            Double(load.certificatesReceived) / Double(max(load.requests, 1)))),
                ]
            }
            let interval = paced.intervalMilliseconds ?? 0
            return
                ([
                    row("store", store),
                    row(
                        "cold sync into an empty replica",
                        "\(coldChanges) changes in \(String(format: "%.2f", coldSeconds)) s (target ≤ 2 s)"),
                ] + rows("paced: each client syncs every \(interval) ms", paced)
                + (saturated.requests > 0 ? rows("saturated: each client back to back", saturated) : [])
                + (refusal?.rows ?? [])).joined(separator: "\n")
        }
    }

    static func run(
        database: String?, coldChanges: Int, clients: Int, seconds: Double, intervalMilliseconds: Int, saturate: Bool, refusals: Int
    ) async throws -> Report {
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
        // One token plays a hundred devices here, so the per-token and per-address limits
        // are off; the other limits at the door are the defaults.
        var limits = ServerLimits()
        limits.pushesPerToken = .off
        limits.pushesPerAddress = .off
        // The server task is cancelled at the end, which Hummingbird reports as an error.
        var serverLogger = logger
        serverLogger.logLevel = .critical
        let server = SyncServer(service: SyncService(store: store, limits: limits, logger: logger), metrics: nil, logger: serverLogger)
        let app = server.application(host: "127.0.0.1", port: port)
        let serverTask = Task { try await app.run() }
        defer { serverTask.cancel() }
        let url = URL(string: "http://127.0.0.1:\(port)")!
        try await waitForHealth(url)

        // Cold sync: a space of `coldChanges` changes, stored directly, pulled by a new replica.
        let coldSpace = partnership.sharedSpace
        try await fill(store, space: coldSpace, changes: coldChanges, token: token)
        let replica = try Replica(path: directory.appendingPathComponent("cold.sqlite").path)
        try await replica.addSpace(coldSpace)
        var configuration = SyncClient.Configuration(server: url, token: token)
        configuration.pageSize = 10_000
        let client = SyncClient(configuration: configuration, logger: logger)
        _ = try await client.registerDevice(replica)  // sync needs a login: the pulled changes are verified
        let start = Date()
        let summary = try await client.sync(replica, spaces: [coldSpace])
        report.coldSeconds = Date().timeIntervalSince(start)
        report.coldChanges = summary.pulled

        // Concurrent clients in the school's space: push 5 changes, pull what others wrote;
        // first each on a schedule (open loop), then back to back (the server's ceiling).
        report.clients = clients
        let session = URLSession(configuration: .ephemeral)
        let space = school.privateSpace
        report.paced = try await load(
            clients: clients, intervalMilliseconds: intervalMilliseconds, seconds: seconds, url: url, token: token, space: space,
            session: session, replicaBase: 0xC000)
        if saturate {
            report.saturated = try await load(
                clients: clients, intervalMilliseconds: nil, seconds: seconds, url: url, token: token, space: space, session: session,
                replicaBase: 0xD000)
        }
        if refusals > 0 {
            // Another school's space of 10,000 changes; an honest member and a hostile one.
            let other = try await store.createSchool(name: "Refusal School")
            var tokens: [String] = []
            for name in ["honest", "hostile"] {
                let member = try await store.createMember(name: name, school: other.id, role: .member)
                let (token, record) = Tokens.issue(for: member.id, label: name)
                try await store.storeToken(record)
                tokens.append(token)
            }
            report.refusal = try await RefusalBenchmark.run(
                server: server, store: store, url: url, honestToken: tokens[0], attackerToken: tokens[1], space: other.privateSpace,
                spaceChanges: 10_000, refusals: refusals, session: session)
        }
        try await store.close()
        return report
    }

    /// Runs `clients` sync loops for `seconds`, each every `intervalMilliseconds` or back to back.
    static func load(
        clients: Int, intervalMilliseconds: Int?, seconds: Double, url: URL, token: String, space: SpaceID, session: URLSession,
        replicaBase: UInt64
    ) async throws -> Load {
        let interval = intervalMilliseconds.map { Duration.milliseconds($0) }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(seconds)
        let results = try await withThrowingTaskGroup(
            of: (latencies: [Double], errors: Int, pushed: Int, pulled: Int, certificates: Int).self
        ) { group in
            for index in 0..<clients {
                // Paced clients start spread over one interval, so requests arrive evenly.
                let first = interval.map { start + $0 * (Double(index) / Double(clients)) } ?? start
                group.addTask {
                    try await clientLoop(
                        replica: ReplicaID(rawValue: replicaBase + UInt64(index))!, url: url, token: token, space: space, first: first,
                        interval: interval, until: deadline, session: session)
                }
            }
            var all: [(latencies: [Double], errors: Int, pushed: Int, pulled: Int, certificates: Int)] = []
            for try await result in group { all.append(result) }
            return all
        }
        var load = Load(intervalMilliseconds: intervalMilliseconds)
        load.seconds = seconds
        let latencies = results.flatMap(\.latencies).sorted()
        load.requests = latencies.count
        load.errors = results.reduce(0) { $0 + $1.errors }
        load.changesPushed = results.reduce(0) { $0 + $1.pushed }
        load.changesPulled = results.reduce(0) { $0 + $1.pulled }
        load.certificatesReceived = results.reduce(0) { $0 + $1.certificates }
        if !latencies.isEmpty {
            load.p50Milliseconds = (latencies[latencies.count / 2] * 10_000).rounded() / 10
            load.p99Milliseconds = (latencies[min(latencies.count - 1, latencies.count * 99 / 100)] * 10_000).rounded() / 10
        }
        return load
    }

    /// `POST /v1/devices` for `replica` with `key` (throws unless 200).
    static func registerDevice(_ replica: ReplicaID, key: PublicSigningKey, url: URL, token: String, session: URLSession) async throws {
        var request = URLRequest(url: url.appendingPathComponent("v1/devices"))
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONEncoder().encode(DeviceRegistrationRequest(replica: replica, publicKey: key))
        let (data, response) = try await session.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw SyncClientError.unreachable("registering device \(replica) answered \(String(decoding: data, as: UTF8.self))")
        }
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

    /// Stores `count` changes (session fields and summary typing by four authors, devices
    /// registered with `token`, each batch signed as one transaction per author).
    static func fill(_ store: any SyncStore, space: SpaceID, changes count: Int, token: String) async throws {
        var document = SpaceDocument(space: space)
        var random = SystemRandomNumberGenerator()
        let authors = (1...4).map { _ in ReplicaID.random() }
        var signers: [ReplicaID: ChangeSigner] = [:]
        for author in authors {
            signers[author] = ChangeSigner()
            try await register(author, key: signers[author]!.key.publicKey, token: token, store: store)
        }
        /// Stores a batch with the heads its authors signed in it: one per transaction of 100
        /// changes, as replicas sign (a head per local transaction). Longer signed runs would
        /// make every page run over its limit to the next head.
        func append(_ batch: [Change]) async throws {
            var heads: [ChainHead] = []
            for author in authors {
                let run = batch.filter { $0.replica == author }
                for start in stride(from: 0, to: run.count, by: 100) {
                    heads += try signers[author]!.sign(Array(run[start..<min(start + 100, run.count)]))
                }
            }
            try await store.append(batch, heads: heads, to: space)
        }
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
                try await append(batch)
                batch = []
            }
        }
        if !batch.isEmpty { try await append(batch) }
    }

    /// Registers the device `replica` with `key` for the member of `token`, as `POST /v1/devices` does.
    static func register(_ replica: ReplicaID, key: PublicSigningKey, token: String, store: any SyncStore) async throws {
        guard let access = try await store.token(forTokenHash: Tokens.hash(token)) else {
            throw SyncClientError.unreachable("the benchmark's token is unknown")
        }
        _ = try await ServerAuthority(store: store).register(DeviceRegistrationRequest(replica: replica, publicKey: key), token: access)
    }

    /// One client: push 5 changes and pull, at `first` and then every `interval` (measuring
    /// latency from the scheduled time, so a slow server cannot hide its queue by delaying
    /// the next send), or back to back when `interval` is nil.
    static func clientLoop(
        replica: ReplicaID, url: URL, token: String, space: SpaceID, first: ContinuousClock.Instant, interval: Duration?,
        until deadline: ContinuousClock.Instant, session: URLSession
    ) async throws -> (latencies: [Double], errors: Int, pushed: Int, pulled: Int, certificates: Int) {
        let clock = ContinuousClock()
        var document = SpaceDocument(space: space)
        let entity = EntityID(UUID())
        var latencies: [Double] = []
        var errors = 0
        var pushed = 0
        var pulled = 0
        var certificates = 0
        var certified: [ReplicaID: Int64] = [:]  // the certificates this client holds, as a replica's trust cache does
        var have = VersionVector()
        var cursor: Int64 = 0
        var first = first
        var created = false
        let encoder = JSONEncoder()
        // The device registers its key, then signs each push as one transaction.
        var signer = ChangeSigner()
        try await registerDevice(replica, key: signer.key.publicKey, url: url, token: token, session: session)
        while true {
            var scheduled = clock.now
            if let interval {
                try await clock.sleep(until: first)
                scheduled = first
                first += interval
            }
            guard scheduled < deadline else { break }
            var changes: [Change] = []
            let context = EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: SystemWallClock().millisecondsSinceEpoch()))
            if !created {
                changes.append(document.create(entity, kind: EntityKind.action.rawValue, by: context))
                created = true
            }
            while changes.count < 5 {
                changes.append(document.set("description", of: entity, to: .string("v\(latencies.count)-\(changes.count)"), by: context))
            }
            have[replica] = document.vector[replica]
            let request = SyncRequest(
                replica: replica,
                spaces: [
                    .init(
                        space: space, have: have, changes: changes, heads: try signer.sign(changes), binary: true, after: cursor,
                        certified: certified.filter { have[$0.key] > 0 })
                ],
                limit: 100, binary: true)
            var urlRequest = URLRequest(url: url.appendingPathComponent("v1/sync"))
            urlRequest.httpMethod = "POST"
            urlRequest.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            urlRequest.httpBody = try encoder.encode(request)
            do {
                let (data, response) = try await session.data(for: urlRequest)
                let elapsed = clock.now - scheduled
                latencies.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                guard (response as? HTTPURLResponse)?.statusCode == 200,
                    let answer = try? JSONDecoder().decode(SyncResponse.self, from: data), let result = answer.spaces.first
                else {
                    errors += 1
                    continue
                }
                pushed += result.accepted
                // Remember what was pulled, so the next request asks only for newer changes.
                let received = try result.allChanges()
                pulled += received.count
                certificates += result.certificates.count
                for certificate in result.certificates { certified[certificate.replica] = certificate.issuedAt }
                for change in received { have.record(Dot(change.replica, change.lastCounter)) }
                cursor = result.cursor
            } catch {
                errors += 1
            }
        }
        return (latencies, errors, pushed, pulled, certificates)
    }
}
