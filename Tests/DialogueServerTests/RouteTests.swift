import DialogueGzip
import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Prometheus
import Testing

@Suite("HTTP routes (in-process)")
struct RouteTests {
    // MARK: Operational routes

    @Test("/health answers 200 {status: ok}")
    func health() async throws {
        try await withRouteHarness { h in
            let response = try await h.client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(try response.decoded([String: String].self) == ["status": "ok"])
        }
    }

    @Test("/ready answers 200 when the store answers, 503 unavailable when it does not")
    func ready() async throws {
        try await withRouteHarness { h in
            let response = try await h.client.execute(uri: "/ready", method: .get)
            #expect(response.status == .ok)
            #expect(try response.decoded([String: String].self) == ["status": "ready"])
        }
        try await withRouteHarness(wrap: { FlakyStore($0, pingFails: true) }) { h in
            let response = try await h.client.execute(uri: "/ready", method: .get)
            let body = try expectRefusal(response, 503, .unavailable)
            #expect(body.error.message.contains("connection refused"))
            // Liveness is not readiness: /health still answers.
            #expect(try await h.client.execute(uri: "/health", method: .get).status == .ok)
        }
    }

    @Test("/metrics is the Prometheus text of the registry")
    func metrics() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "dialogue_route_test_total").increment(by: Int64(3))
        try await withRouteHarness(metrics: registry) { h in
            let response = try await h.client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(response.text.contains("# TYPE dialogue_route_test_total counter"))
            #expect(response.text.contains("dialogue_route_test_total 3"))
        }
        // Without a registry the route still answers (empty).
        try await withRouteHarness { h in
            let response = try await h.client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.text.isEmpty)
        }
    }

    @Test("/openapi.yaml serves the document, the same as the source file")
    func openAPI() async throws {
        try await withRouteHarness { h in
            let response = try await h.client.execute(uri: "/openapi.yaml", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(response.text.hasPrefix("openapi: 3"))
            #expect(response.text.contains("/v1/sync:"))
            let source = try String(
                contentsOf: packageRoot().appendingPathComponent("Sources/DialogueServer/Resources/openapi.yaml"), encoding: .utf8)
            #expect(response.text == source)
        }
    }

    @Test("an unknown route is 404 with a JSON not_found body; a known one with the wrong method is 405 method_not_allowed")
    func unknownRoute() async throws {
        try await withRouteHarness { h in
            try expectRefusal(try await h.client.execute(uri: "/nope", method: .get), 404, .notFound)
            try expectRefusal(try await h.client.execute(uri: "/v2/sync", method: .post, body: ByteBuffer(string: "{}")), 404, .notFound)
            let wrongMethod = try await h.client.execute(uri: "/v1/sync", method: .get)
            try expectRefusal(wrongMethod, 405, .methodNotAllowed)
        }
    }

    // MARK: /v1/sync: bad input is refused with a stable code and stores nothing

    /// Sends `request` (built from the fixture) and expects a refusal that leaves the store
    /// unchanged. With `signed`, the body (a sync request) is first signed by its authors'
    /// devices (``RouteHarness/signed(_:token:)``), for refusals the server makes only of
    /// changes whose signatures verify (their references and values, checked after).
    func refuses(
        limits: ServerLimits = ServerLimits(), status: Int, code: SyncErrorCode, rejection: RejectionCode? = nil,
        headers: HTTPFields = [:], signed: Bool = false, seed: (@Sendable (RouteHarness) async throws -> Void)? = nil,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: @escaping @Sendable (RouteHarness) throws -> [UInt8]
    ) async throws {
        try await withRouteHarness(limits: limits) { h in
            try await seed?(h)
            let before = try await h.held()
            var bytes = try body(h)
            if signed {
                let request = try JSONDecoder().decode(SyncRequest.self, from: Data(bytes))
                bytes = try encodeJSON(try await h.signed(request, token: "hill-member"))
            }
            let response = try await h.post(bytes, headers: headers)
            let error = try expectRefusal(response, status, code, sourceLocation: sourceLocation)
            if let rejection {
                let rejected = try #require(error.error.rejected, sourceLocation: sourceLocation)
                #expect(rejected.first?.code == rejection.rawValue, "\(rejected)", sourceLocation: sourceLocation)
            }
            #expect(try await h.held() == before, "the store changed after a refusal", sourceLocation: sourceLocation)
        }
    }

    @Test("malformed JSON → 400 malformed_request")
    func malformedJSON() async throws {
        try await refuses(status: 400, code: .malformedRequest) { _ in Array(#"{"protocol": 2, "spaces": ["#.utf8) }
        try await refuses(status: 400, code: .malformedRequest) { _ in Array(#"{"protocol": 2}"#.utf8) }
        try await refuses(status: 400, code: .malformedRequest) { _ in [] }
        // A bad dot inside an otherwise valid change: the message points at it.
        try await withRouteHarness { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let json = String(decoding: try encodeJSON(RouteHarness.push(author.creates(1), to: author.space)), as: UTF8.self)
                .replacingOccurrences(of: "@1\"", with: "@0\"")
            let error = try expectRefusal(try await h.post(Array(json.utf8)), 400, .malformedRequest)
            #expect(error.error.message.contains("spaces"))
            #expect(try await h.store.vector(of: author.space).counters.isEmpty)
        }
    }

    @Test("wrong protocol version → 422 unsupported_protocol")
    func wrongProtocol() async throws {
        try await refuses(status: 422, code: .unsupportedProtocol) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var request = RouteHarness.push(author.creates(2), to: author.space)
            request.protocol = SyncProtocol.version + 1
            return try encodeJSON(request)
        }
    }

    @Test("a body over maxBodyBytes → 413 payload_too_large")
    func oversizedBody() async throws {
        var limits = ServerLimits()
        limits.maxBodyBytes = 2048
        try await refuses(limits: limits, status: 413, code: .payloadTooLarge) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let body = try encodeJSON(RouteHarness.push(author.creates(30), to: author.space))
            #expect(body.count > 2048)
            return body
        }
        // The same push within the limit is fine.
        try await withRouteHarness(limits: limits) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let response = try await h.sync(RouteHarness.push(author.creates(2), to: author.space))
            #expect(response.status == .ok)
        }
    }

    @Test("a gzip body that inflates past maxBodyBytes → 413 payload_too_large")
    func gzipBomb() async throws {
        var limits = ServerLimits()
        limits.maxBodyBytes = 4096
        try await withRouteHarness(limits: limits) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            // Valid JSON padded with whitespace: small on the wire, large once inflated.
            let json = try encodeJSON(RouteHarness.push(author.creates(1), to: author.space)) + [UInt8](repeating: 0x20, count: 200_000)
            let compressed = Gzip.compress(json)
            #expect(compressed.count < 4096)
            let before = try await h.held()
            let response = try await h.post(compressed, headers: [.contentEncoding: "gzip"])
            #expect(try await h.held() == before)
            #expect(response.status.code >= 400 && response.status.code < 500)
            // The limit applies after decoding (ServerLimits.maxBodyBytes), so the answer should be
            // the same as for a plain body that large: 413 payload_too_large.
            try expectRefusal(response, 413, .payloadTooLarge)
        }
    }

    @Test("more changes than maxChangesPerRequest → 413 payload_too_large")
    func tooManyChanges() async throws {
        var limits = ServerLimits()
        limits.maxChangesPerRequest = 2
        try await refuses(limits: limits, status: 413, code: .payloadTooLarge) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            return try encodeJSON(RouteHarness.push(author.creates(3), to: author.space))
        }
        // Counted over every space of the request.
        try await refuses(limits: limits, status: 413, code: .payloadTooLarge) { h in
            var shared = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var own = ChangeAuthor(space: h.accounts.hill.privateSpace, replica: shared.replica)
            var request = RouteHarness.push(shared.creates(2), to: shared.space)
            request.spaces += RouteHarness.push(own.creates(1), to: own.space).spaces
            return try encodeJSON(request)
        }
    }

    @Test("gzip: a corrupt body → 400 malformed_request; a good one → 200; another encoding → 415")
    func gzipBodies() async throws {
        try await refuses(status: 400, code: .malformedRequest, headers: [.contentEncoding: "gzip"]) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var compressed = Gzip.compress(try encodeJSON(RouteHarness.push(author.creates(5), to: author.space)))
            for index in stride(from: 12, to: compressed.count - 8, by: 7) { compressed[index] ^= 0x5A }
            return compressed
        }
        try await refuses(status: 400, code: .malformedRequest, headers: [.contentEncoding: "gzip"]) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            return Array(Gzip.compress(try encodeJSON(RouteHarness.push(author.creates(5), to: author.space))).prefix(40))
        }
        try await refuses(status: 400, code: .malformedRequest, headers: [.contentEncoding: "gzip"]) { h in
            try encodeJSON(SyncRequest(replica: nil, spaces: [.init(space: h.accounts.partnership.sharedSpace, have: VersionVector())]))
        }
        try await refuses(status: 415, code: .malformedRequest, headers: [.contentEncoding: "br"]) { h in
            try encodeJSON(SyncRequest(replica: nil, spaces: [.init(space: h.accounts.partnership.sharedSpace, have: VersionVector())]))
        }
        try await withRouteHarness { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let changes = author.creates(5)
            let request = try await h.signed(RouteHarness.push(changes, to: author.space), token: "hill-member")
            let response = try await h.post(Gzip.compress(try encodeJSON(request)), headers: [.contentEncoding: "GZIP"])
            #expect(response.status == .ok, "\(response.text)")
            #expect(try response.syncResponse().spaces.first?.accepted == 5)
            #expect(try await h.store.vector(of: author.space) == VersionVector([author.replica: 5]))
        }
    }

    @Test("a space listed twice → 400 malformed_request")
    func spaceTwice() async throws {
        try await refuses(status: 400, code: .malformedRequest) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var request = RouteHarness.push(author.creates(1), to: author.space)
            request.spaces += RouteHarness.push(author.creates(1), to: author.space).spaces
            return try encodeJSON(request)
        }
    }

    @Test("an unknown space → 403 forbidden, the same answer as another school's real space")
    func unknownSpace() async throws {
        try await withRouteHarness { h in
            let unknown = SpaceID(UUID())
            let partner = h.accounts.vale.privateSpace
            var answers: [ErrorBody] = []
            for space in [unknown, partner] {
                var author = ChangeAuthor(space: space)
                for request in [
                    SyncRequest(replica: author.replica, spaces: [.init(space: space, have: VersionVector())]),
                    RouteHarness.push(author.creates(1), to: space),
                ] {
                    let before = try await h.held()
                    var body = try expectRefusal(try await h.sync(request), 403, .spaceNotPermitted)
                    #expect(try await h.held() == before)
                    body.error.message = body.error.message.replacingOccurrences(of: "\(space)", with: "<space>")
                    answers.append(body)
                }
            }
            #expect(answers.count == 4)
            #expect(Set(answers.map(\.error.message)).count == 1, "\(answers)")
            // Allowed spaces first do not let the forbidden one through, and nothing is stored.
            var own = ChangeAuthor(space: h.accounts.hill.privateSpace)
            var request = RouteHarness.push(own.creates(2), to: own.space)
            request.spaces.append(.init(space: unknown, have: VersionVector()))
            try expectRefusal(try await h.sync(request), 403, .spaceNotPermitted)
            #expect(try await h.store.vector(of: own.space).counters.isEmpty)
        }
    }

    @Test("a gap in an author's counters → 422 invalid_changes, counter_gap")
    func counterGap() async throws {
        try await refuses(status: 422, code: .invalidChanges, rejection: .counterGap) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let changes = author.creates(3)
            return try encodeJSON(RouteHarness.push([changes[0], changes[2]], to: author.space))
        }
        // A gap after what the server already holds.
        try await refuses(
            status: 422, code: .invalidChanges, rejection: .counterGap,
            seed: { h in
                var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace, replica: ReplicaID(rawValue: 0xA1)!)
                let seeded = try await h.sync(RouteHarness.push(author.creates(2), to: author.space))
                #expect(seeded.status == .ok)
            }
        ) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace, replica: ReplicaID(rawValue: 0xA1)!)
            return try encodeJSON(RouteHarness.push(Array(author.creates(4).suffix(1)), to: author.space))
        }
    }

    @Test("a timestamp far ahead of the server's clock → timestamp_too_far_ahead")
    func farFuture() async throws {
        try await refuses(status: 422, code: .invalidChanges, rejection: .timestampTooFarAhead) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var change = author.creates(1)[0]
            change.timestamp = HLCTimestamp(wallTime: nowMilliseconds() + 3_600_000)
            return try encodeJSON(RouteHarness.push([change], to: author.space))
        }
        // Within the allowed drift is fine.
        try await withRouteHarness { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var change = author.creates(1)[0]
            change.timestamp = HLCTimestamp(wallTime: nowMilliseconds() + 60_000)
            let seeded = try await h.sync(RouteHarness.push([change], to: author.space))
            #expect(seeded.status == .ok)
        }
    }

    @Test("the same dot with different content → conflicting_duplicate")
    func conflictingDuplicate() async throws {
        let replica = ReplicaID.random()
        try await refuses(
            status: 422, code: .invalidChanges, rejection: .conflictingDuplicate,
            seed: { h in
                var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace, replica: replica)
                let seeded = try await h.sync(RouteHarness.push(author.creates(2), to: author.space))
                #expect(seeded.status == .ok)
            }
        ) { h in
            // Another device reusing the replica id: same dots, other entities.
            var impostor = ChangeAuthor(space: h.accounts.partnership.sharedSpace, replica: replica)
            return try encodeJSON(RouteHarness.push(impostor.creates(2), to: impostor.space))
        }
    }

    @Test("a change whose space differs from its section → wrong_space")
    func wrongSpace() async throws {
        try await refuses(status: 422, code: .invalidChanges, rejection: .wrongSpace) { h in
            var author = ChangeAuthor(space: h.accounts.hill.privateSpace)
            return try encodeJSON(RouteHarness.push(author.creates(1), to: h.accounts.partnership.sharedSpace))
        }
    }

    @Test("a dependency the server does not hold → missing_dependency")
    func missingDependency() async throws {
        try await refuses(status: 422, code: .invalidChanges, rejection: .missingDependency) { h in
            // B saw A's change, but only B's change is pushed.
            var a = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var b = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            try b.receive(a.creates(1))
            let change = b.creates(1)[0]
            #expect(change.dependencies == [Dot(a.replica, 1)])
            return try encodeJSON(RouteHarness.push([change], to: b.space))
        }
    }

    @Test("text inserted after, or a range deleted of, an element nobody holds → unknown_reference; nothing stored")
    func unknownReference() async throws {
        let replica = ReplicaID.random()
        let seed: @Sendable (RouteHarness) async throws -> Void = { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace, replica: replica)
            let run = try author.textRun("abc")
            let response = try await h.sync(RouteHarness.push(run, to: author.space))
            #expect(response.status == .ok)
        }
        let ghost = ReplicaID.random()
        for operation in [
            Operation.insertText(originLeft: Dot(ghost, 7), originRight: nil, text: "x"),
            Operation.deleteText([try! DotRange(replica: ghost, firstCounter: 1, length: 2)]),
        ] {
            try await refuses(status: 422, code: .invalidChanges, rejection: .unknownReference, signed: true, seed: seed) { h in
                // The author's next counter (it holds 1…4) and no dependencies: only the reference
                // is wrong (text in an entity the server has not seen is no error by itself).
                let space = h.accounts.partnership.sharedSpace
                let bad = Change(
                    id: Dot(replica, 5), timestamp: HLCTimestamp(wallTime: nowMilliseconds()), space: space, entity: EntityID(UUID()),
                    field: DialogueSession.Field.summary, dependencies: [], operation: operation)
                return try encodeJSON(RouteHarness.push([bad], to: space))
            }
        }
    }

    @Test("references to elements stored earlier (by anyone, before a restart) or earlier in the request are accepted")
    func knownReferences() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var a = ChangeAuthor(space: space)
            let typed = try a.textRun("hello")
            // Stored behind the service's back, as another server process would: the check catches up.
            try await h.store.append(typed, to: space)
            var b = ChangeAuthor(space: space)
            try b.receive(typed)
            var edits = try b.document.editText(
                DialogueSession.Field.summary, of: typed[0].entity, at: 5, insert: " world", by: b.context())
            edits += try b.document.editText(DialogueSession.Field.summary, of: typed[0].entity, at: 11, insert: "!", by: b.context())
            edits += try b.document.editText(DialogueSession.Field.summary, of: typed[0].entity, at: 0, delete: 1, by: b.context())
            let response = try await h.sync(RouteHarness.push(edits, to: space))
            #expect(response.status == .ok, "\(response.text)")
            var check = SpaceDocument(space: space)
            try check.apply(try await h.store.everything(in: space))
            #expect(check.text(DialogueSession.Field.summary, of: typed[0].entity) == "ello world!")
            // A refused request leaves the server's view consistent: the next good one is accepted.
            let ghost = Change(
                id: Dot(b.replica, b.document.vector[b.replica] + 1), timestamp: HLCTimestamp(wallTime: nowMilliseconds()), space: space,
                entity: typed[0].entity, field: DialogueSession.Field.summary, dependencies: [],
                operation: .insertText(originLeft: Dot(.random(), 3), originRight: nil, text: "?"))
            var refused = RouteHarness.push([ghost], to: space)
            refused.spaces[0].heads = try h.devices.headsAside(for: [ghost])  // signed, then abandoned by its device
            let refusal = try expectRefusal(try await h.syncAsSent(refused), 422, .invalidChanges)
            #expect(refusal.error.rejected?.map(\.code) == [RejectionCode.unknownReference.rawValue])
            let more = try b.document.editText(DialogueSession.Field.summary, of: typed[0].entity, at: 0, insert: "H", by: b.context())
            #expect(try await h.sync(RouteHarness.push(more, to: space)).status == .ok)
        }
    }

    @Test("concurrent pushes to the same spaces all land: checks and appends wait for each other, none is lost")
    func concurrentPushes() async throws {
        try await withRouteHarness { h in
            let spaces = [h.accounts.partnership.sharedSpace, h.accounts.hill.privateSpace]
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        // Some requests write both spaces, in either order, to exercise taking several locks.
                        var sections: [SyncRequest.SpaceSync] = []
                        for space in index % 3 == 0 ? spaces.reversed() : (index % 3 == 1 ? spaces : [spaces[0]]) {
                            var author = ChangeAuthor(space: space)
                            let run = try author.textRun("note \(index)")
                            var have = VersionVector()
                            for change in run { have.record(Dot(change.replica, change.lastCounter)) }
                            sections.append(.init(space: space, have: have, changes: run))
                        }
                        return try await h.sync(SyncRequest(replica: .random(), spaces: sections)).status.code
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 24))
            #expect(try await h.store.everything(in: spaces[0]).count == 24 * 2)
            #expect(try await h.store.everything(in: spaces[1]).count == 16 * 2)
        }
    }

    @Test("a field name over 256 bytes → too_large")
    func tooLarge() async throws {
        try await refuses(status: 422, code: .invalidChanges, rejection: .tooLarge) { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let entity = EntityID(UUID())
            let ctx = author.context()
            let create = author.document.create(entity, kind: EntityKind.session.rawValue, by: ctx)
            let set = author.document.set(String(repeating: "f", count: 300), of: entity, to: .string("x"), by: author.context())
            return try encodeJSON(RouteHarness.push([create, set], to: author.space))
        }
    }

    @Test("one bad change among good ones (in any space of the request) stores none of them")
    func oneBadAmongGood() async throws {
        try await withRouteHarness { h in
            var shared = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var own = ChangeAuthor(space: h.accounts.hill.privateSpace, replica: shared.replica)
            var good = shared.creates(4)
            good[3].timestamp = HLCTimestamp(wallTime: nowMilliseconds() + 3_600_000)
            let bad = good[3].id
            var request = RouteHarness.push(own.creates(3), to: own.space)
            request.spaces += RouteHarness.push(good, to: shared.space).spaces
            let before = try await h.held()
            let error = try expectRefusal(try await h.sync(request), 422, .invalidChanges)
            #expect(error.error.rejected?.map(\.id) == [bad])
            #expect(error.error.rejected?.map(\.code) == [RejectionCode.timestampTooFarAhead.rawValue])
            #expect(try await h.held() == before)
            #expect(before.values.allSatisfy { $0.counters.isEmpty })
        }
    }

    @Test("retrying the same good push stores it once; the retry reports alreadyHeld")
    func retryIsIdempotent() async throws {
        try await withRouteHarness { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let creates = author.creates(3)
            let run = try author.textRun("hello")
            let request = RouteHarness.push(creates + run, to: author.space)
            let first = try await h.sync(request)
            #expect(first.status == .ok)
            let firstResult = try #require(try first.syncResponse().spaces.first)
            #expect(firstResult.accepted == 5 && firstResult.alreadyHeld == 0)
            #expect(firstResult.changes.isEmpty, "the pushed changes are not echoed back")
            #expect(firstResult.serverHas.vector == VersionVector([author.replica: 3 + 1 + 5]))
            let second = try await h.sync(request)
            #expect(second.status == .ok)
            let secondResult = try #require(try second.syncResponse().spaces.first)
            #expect(secondResult.accepted == 0 && secondResult.alreadyHeld == 5)
            #expect(secondResult.serverHas == firstResult.serverHas)
            #expect(try await h.store.everything(in: author.space) == request.spaces[0].changes)
            // A retry overlapping new changes: the held ones are skipped, the new ones stored.
            let more = author.creates(2)
            let third = try await h.sync(RouteHarness.push(request.spaces[0].changes + more, to: author.space))
            let thirdResult = try #require(try third.syncResponse().spaces.first)
            #expect(thirdResult.accepted == 2 && thirdResult.alreadyHeld == 5)
        }
    }

    @Test(
        "a re-joined text run overlapping what the server holds is no run its author signed: refused, nothing stored; the run as signed is accepted"
    )
    func rejoinedRun() async throws {
        try await withRouteHarness { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let first = try author.textRun("hello")  // create @1, "hello" @2…6
            let entity = first[0].entity
            let more = try author.document.editText(DialogueSession.Field.summary, of: entity, at: 5, insert: " you", by: author.context())
            let joined = ChangeCompactor.compact(first + more)  // create @1, "hello you" @2…10
            #expect(joined.count == 2 && joined[1].id.counter == 2 && joined[1].lastCounter == 10)
            let seeded = try await h.sync(RouteHarness.push(first, to: author.space))
            #expect(seeded.status == .ok)
            _ = try h.devices.heads(for: more)  // the device signed " you" as its own transaction
            // Trimmed to @7…10, the joined run hashes as nothing the device signed
            // (docs/TRUST.md: a trimmed change is refused, bad_signature).
            let before = try await h.held()
            let refused = try expectRefusal(try await h.sync(RouteHarness.push(joined, to: author.space)), 422, .invalidChanges)
            #expect(refused.error.rejected?.map(\.code) == [RejectionCode.badSignature.rawValue], "\(refused.error)")
            #expect(try await h.held() == before)
            // The run as its device signed it is stored.
            let response = try await h.sync(RouteHarness.push(first + more, to: author.space))
            #expect(response.status == .ok, "\(response.text)")
            let result = try #require(try response.syncResponse().spaces.first)
            #expect(result.accepted == 1 && result.alreadyHeld == 2)
            // What the server holds builds the author's document.
            var rebuilt = SpaceDocument(space: author.space)
            try rebuilt.apply(try await h.store.everything(in: author.space))
            #expect(rebuilt.canonicalExportText() == author.document.canonicalExportText())
            #expect(rebuilt.text(DialogueSession.Field.summary, of: entity) == "hello you")
        }
    }

    @Test("a re-joined text run whose held part differs from what the server holds → conflicting_duplicate")
    func rejoinedRunWithOtherContent() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            var author = ChangeAuthor(space: space)
            let first = try author.textRun("hello")  // create @1, "hello" @2…6
            let seeded = try await h.sync(RouteHarness.push(first, to: space))
            #expect(seeded.status == .ok)
            // Another device with the same replica id typed other text at the same dots, then more.
            var impostor = ChangeAuthor(space: space, replica: author.replica)
            try impostor.receive([first[0]])
            let other = try impostor.document.editText(
                DialogueSession.Field.summary, of: first[0].entity, at: 0, insert: "HELLO you", by: impostor.context())
            #expect(other.count == 1 && other[0].id.counter == 2 && other[0].lastCounter == 10)
            let before = try await h.held()
            let response = try await h.sync(RouteHarness.push(other, to: space))
            let after = try await h.held()
            #expect(response.status.code == 422, "\(response.text)")
            #expect(after == before, "the server stored the tail of a run whose head it holds with other text")
        }
    }

    @Test("binary encoding: haveBinary in, serverHasBinary and changesBinary out; the same answer as JSON")
    func binaryVectors() async throws {
        try await withRouteHarness { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let changes = author.creates(4)
            #expect(try await h.sync(RouteHarness.push(Array(changes.prefix(2)), to: author.space)).status == .ok)
            var have = VersionVector()
            have.record(Dot(author.replica, 1))
            let binary = SyncRequest(replica: .random(), spaces: [.init(space: author.space, have: have, binary: true)], binary: true)
            let body = String(decoding: try encodeJSON(binary), as: UTF8.self)
            #expect(body.contains("\"haveBinary\"") && !body.contains("\"have\""))
            let response = try await h.sync(binary, token: "vale-member")
            #expect(response.text.contains("\"serverHasBinary\"") && !response.text.contains("\"serverHas\""))
            let result = try #require(try response.syncResponse().spaces.first)
            #expect(result.serverHas.vector == VersionVector([author.replica: 2]))
            #expect(try result.allChanges() == [changes[1]])
            let json = SyncRequest(replica: .random(), spaces: [.init(space: author.space, have: have)])
            let plain = try #require(try await h.sync(json, token: "vale-member").syncResponse().spaces.first)
            #expect(plain.serverHas == result.serverHas && plain.changes == [changes[1]])
        }
    }

    @Test("haveBinary that is not base64 or not a vector, or sent with have → 400 malformed_request")
    func badBinaryVectors() async throws {
        for bad in [#""haveBinary": "%%%""#, #""haveBinary": "AQ==""#, #""haveBinary": "AA==", "have": {}"#] {
            try await refuses(status: 400, code: .malformedRequest) { h in
                Array(#"{"protocol": 2, "spaces": [{"space": "\#(h.accounts.partnership.sharedSpace)", \#(bad), "changes": []}]}"#.utf8)
            }
        }
    }

    @Test("pull pages: a small limit returns pages with `more` until everything is pulled")
    func pullPages() async throws {
        try await withRouteHarness { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            let changes = author.creates(7)
            let seeded = try await h.sync(RouteHarness.push(changes, to: author.space))
            #expect(seeded.status == .ok)
            var have = VersionVector()
            var pulled: [Change] = []
            for _ in 0..<10 {
                let request = SyncRequest(
                    replica: .random(), spaces: [.init(space: author.space, have: have)], limit: 3)
                let result = try #require(try await h.sync(request, token: "vale-member").syncResponse().spaces.first)
                pulled += result.changes
                for change in result.changes { have.record(Dot(change.replica, change.lastCounter)) }
                if !result.more { break }
            }
            #expect(pulled == changes)
        }
    }
}

/// The package's root directory (this file is Tests/DialogueServerTests/…).
func packageRoot(_ file: String = #filePath) -> URL {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
