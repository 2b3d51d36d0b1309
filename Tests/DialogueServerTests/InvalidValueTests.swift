import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A session and Mallory's attempt to poison it: a set of `scheduledAt` to
/// `{"string":"soon"}`, made after she saw the session (so only the value is wrong).
private func poisonedPush(
    in space: SpaceID, field: String = DialogueSession.Field.scheduledAt, value: FieldValue = .string("soon")
)
    -> (seed: [Change], poisoned: Change)
{
    var author = ChangeAuthor(space: space)
    let seed = author.creates(1)
    var mallory = ChangeAuthor(space: space)
    try! mallory.receive(seed)
    let poisoned = mallory.document.set(field, of: seed[0].entity, to: value, by: mallory.context())
    return (seed, poisoned)
}

extension RouteTests {
    @Test(
        "a value its field's rule refuses ({\"string\":\"soon\"} for scheduledAt, empty title, unknown status…) → invalid_value; nothing stored"
    )
    func invalidValue() async throws {
        for (field, value) in [
            (DialogueSession.Field.scheduledAt, FieldValue.string("soon")), (DialogueSession.Field.title, .string("")),
            (DialogueSession.Field.status, .string("postponed")), (DialogueSession.Field.facilitator, .timestamp(1)),
        ] {
            let space = SpaceID(UUID())
            let (seed, poisoned) = poisonedPush(in: space, field: field, value: value)
            // Stored earlier, or pushed with it in the same request: refused either way.
            try await refuses(
                status: 422, code: .invalidChanges, rejection: .invalidValue, signed: true,
                seed: { h in
                    let seed = seed.map { change -> Change in
                        var change = change
                        change.space = h.accounts.partnership.sharedSpace
                        return change
                    }
                    let response = try await h.sync(RouteHarness.push(seed, to: h.accounts.partnership.sharedSpace))
                    #expect(response.status == .ok)
                }
            ) { h in
                var change = poisoned
                change.space = h.accounts.partnership.sharedSpace
                return try encodeJSON(RouteHarness.push([change], to: change.space))
            }
            try await refuses(status: 422, code: .invalidChanges, rejection: .invalidValue, signed: true) { h in
                let shared = h.accounts.partnership.sharedSpace
                let both = (seed + [poisoned]).map { change -> Change in
                    var change = change
                    change.space = shared
                    return change
                }
                return try encodeJSON(
                    SyncRequest(replica: poisoned.replica, spaces: [.init(space: shared, have: VersionVector(), changes: both)]))
            }
        }
    }

    @Test("an operation of another CRDT than its field's (text into a register, a set add into a list) → invalid_value")
    func wrongOperationForField() async throws {
        for (field, operation) in [
            (DialogueSession.Field.title, Operation.insertText(originLeft: nil, originRight: nil, text: "hi")),
            (DialogueSession.Field.agenda, .add(.string("x"))),
        ] {
            try await refuses(status: 422, code: .invalidChanges, rejection: .invalidValue, signed: true) { h in
                var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
                let create = author.creates(1)[0]
                let bad = Change(
                    id: Dot(author.replica, 2), timestamp: create.timestamp, space: create.space, entity: create.entity, field: field,
                    operation: operation)
                return try encodeJSON(RouteHarness.push([create, bad], to: create.space))
            }
        }
    }
}

@Suite("Live server: invalid values")
struct LiveInvalidValueTests {
    @Test("the real server refuses the poisoned session push with invalid_value and stores nothing")
    func poisonedSessionRefused() async throws {
        let directory = ServerTestDirectory()
        let store = ["--data-dir", directory.path("data")]
        let accounts = try await LiveAccounts.create(store)
        try await withServers(1, store, directory) { servers in
            let server = servers[0]
            let (seed, poisoned) = poisonedPush(in: accounts.sharedSpace)
            let devices = TestDevices()
            _ = try await postSignedSync(
                server.url, token: accounts.tokens["hill"]!, RouteHarness.push(seed, to: accounts.sharedSpace), devices: devices)
            // Mallory's device is registered and signs: only the value is wrong.
            let body = try encodeJSON(
                try await devices.signed(
                    RouteHarness.push([poisoned], to: accounts.sharedSpace), server: server.url, token: accounts.tokens["vale"]!))
            #expect(String(decoding: body, as: UTF8.self).contains(#"{"string":"soon"}"#))
            var request = URLRequest(url: server.url.appendingPathComponent("v1/sync"))
            request.httpMethod = "POST"
            request.setValue("Bearer \(accounts.tokens["vale"]!)", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body)
            let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
            let text = String(decoding: data, as: UTF8.self)
            #expect((response as? HTTPURLResponse)?.statusCode == 422, "\(text)")
            #expect(text.contains(#""code":"invalid_value""#) && text.contains("scheduled time"), "\(text)")
            // Nothing stored: a fresh pull holds the session alone, and the server still serves.
            let pulled = try await postSync(
                server.url, token: accounts.tokens["vale"]!,
                SyncRequest(replica: nil, spaces: [.init(space: accounts.sharedSpace, have: VersionVector(), changes: [])]))
            #expect(pulled.spaces.first?.changes.map(\.id) == seed.map(\.id))
            #expect(try await server.waitUntilHealthy(timeout: .seconds(5)))
        }
    }
}
