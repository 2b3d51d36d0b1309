import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `POST /v1/devices` over HTTP (a live in-process server), on both stores: docs/TRUST.md's
/// registration, and the squatting attack of issue 12 refused.
@Suite("Device registration (POST /v1/devices)")
struct DeviceRegistrationTests {
    /// An answer: status and body.
    struct Answer: Sendable {
        var status: Int
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }

        func registration() throws -> DeviceRegistrationResponse {
            guard status == 200 else { throw TestSetupFailure(description: "POST /v1/devices answered \(status): \(text)") }
            return try JSONDecoder().decode(DeviceRegistrationResponse.self, from: body)
        }

        /// The stable code of an error answer, checking the status.
        func refusal(_ expected: Int, _ code: SyncErrorCode, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(status == expected, "\(text)", sourceLocation: sourceLocation)
            let error = try? JSONDecoder().decode(ErrorBody.self, from: body)
            #expect(error?.error.code == code.rawValue, "\(text)", sourceLocation: sourceLocation)
            #expect(error?.error.message.isEmpty == false, sourceLocation: sourceLocation)
        }
    }

    static func post(_ server: URL, token: String?, body: Data) async throws -> Answer {
        var request = URLRequest(url: server.appendingPathComponent("v1/devices"))
        request.httpMethod = "POST"
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
        return Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    static func register(_ server: URL, token: String?, replica: ReplicaID, key: PublicSigningKey) async throws -> Answer {
        try await post(server, token: token, body: Data(try encodeJSON(DeviceRegistrationRequest(replica: replica, publicKey: key))))
    }

    /// A live server over a fresh store of `kind` with the account fixture.
    static func withServer(
        _ kind: StoreKind, _ body: @escaping @Sendable (URL, AccountFixture, any SyncStore) async throws -> Void
    ) async throws {
        try await withFreshStore(kind) { fresh in
            let accounts = try await AccountFixture.make(fresh.store)
            let store = fresh.store
            try await withLiveServer(store: store) { url in try await body(url, accounts, store) }
        }
    }

    @Test(
        "registration answers a certificate and a space directory that verify under the returned server key",
        arguments: StoreKind.allCases)
    func registers(_ kind: StoreKind) async throws {
        try await Self.withServer(kind) { url, accounts, store in
            let device = SigningKeyPair()
            let replica = ReplicaID.random()
            let answer = try await Self.register(url, token: accounts.tokens["hill-member"], replica: replica, key: device.publicKey)
                .registration()
            let ring = ServerKeyRing(pinned: answer.serverKey)
            try answer.certificate.verify(trusting: ring)
            try answer.directory.verify(trusting: ring)
            #expect(answer.fingerprint == answer.serverKey.fingerprint && answer.fingerprint.hasPrefix("SHA256:"))
            #expect(answer.endorsements.isEmpty)
            let member = try #require(try await store.members().first { $0.name == "hill-member" })
            let certificate = answer.certificate
            #expect(certificate.replica == replica && certificate.publicKey == device.publicKey)
            #expect(certificate.member == member.id && certificate.memberName == "hill-member")
            #expect(certificate.school == accounts.hill.id && certificate.schoolName == "Hill Primary")
            #expect(certificate.signer == answer.serverKey)
            // The directory: the school's private space after the school, the shared one after the
            // partnership, the member's personal space after the member.
            #expect(answer.directory.member == member.id)
            let personal = try await store.personalSpace(of: member.id)
            #expect(
                Set(answer.directory.entries) == [
                    SpaceDirectory.Entry(space: personal, name: "Personal reflection (hill-member)", kind: .personal, owner: member.id),
                    SpaceDirectory.Entry(space: accounts.hill.privateSpace, name: "Hill Primary", kind: .private, owner: accounts.hill.id),
                    SpaceDirectory.Entry(
                        space: accounts.partnership.sharedSpace, name: "North Partnership", kind: .shared, owner: accounts.partnership.id),
                ])
            // The server key is the store's; the device is recorded with its certificate.
            let keys = try await ServerAuthority(store: store).keys()
            #expect(keys.current.publicKey == answer.serverKey)
            let listed = try #require(try await store.devices().first)
            #expect(listed.device.replica == replica && listed.device.publicKey == device.publicKey.rawRepresentation)
            #expect(listed.device.member == member.id && listed.device.token == accounts.tokenIDs["hill-member"])
            #expect(try await ServerAuthority(store: store).certificates(of: [replica]) == [replica: certificate])
            // A tampered certificate does not verify (the check above can fail).
            var forged = certificate
            forged.memberName = "vale-member"
            #expect(throws: TrustError.self) { try forged.verify(trusting: ring) }
        }
    }

    @Test(
        "squatting: another member's token, or another key, claiming a bound replica id is 409 replica_taken and changes nothing",
        arguments: StoreKind.allCases)
    func squattingRefused(_ kind: StoreKind) async throws {
        try await Self.withServer(kind) { url, accounts, store in
            let adaKey = SigningKeyPair().publicKey
            let adaReplica = ReplicaID.random()
            let first = try await Self.register(url, token: accounts.tokens["hill-member"], replica: adaReplica, key: adaKey).registration()
            let before = try await store.devices()
            // Ben (a partner school's member) claims Ada's replica id with her public key, then with his own key.
            for key in [adaKey, SigningKeyPair().publicKey] {
                let answer = try await Self.register(url, token: accounts.tokens["vale-member"], replica: adaReplica, key: key)
                answer.refusal(409, .replicaTaken)
                #expect(answer.text.contains("\(adaReplica)"))
            }
            // Ada's own token with another key (a second device copying the id): refused too.
            try await Self.register(url, token: accounts.tokens["hill-member"], replica: adaReplica, key: SigningKeyPair().publicKey)
                .refusal(409, .replicaTaken)
            #expect(try await store.devices() == before)
            #expect(
                try await ServerAuthority(store: store).certificates(of: [adaReplica]) == [adaReplica: first.certificate])
        }
    }

    @Test(
        "the same key and member again (a re-issued token) gets a fresh certificate; a revoked device is 403 revoked_device",
        arguments: StoreKind.allCases)
    func renewAndRevoked(_ kind: StoreKind) async throws {
        try await Self.withServer(kind) { url, accounts, store in
            let key = SigningKeyPair().publicKey
            let replica = ReplicaID.random()
            let first = try await Self.register(url, token: accounts.tokens["hill-member"], replica: replica, key: key).registration()
            let member = try #require(try await store.members().first { $0.name == "hill-member" })
            let (reissued, record) = Tokens.issue(for: member.id, label: "re-issued")
            try await store.storeToken(record)
            try await Task.sleep(for: .milliseconds(5))
            let again = try await Self.register(url, token: reissued, replica: replica, key: key).registration()
            #expect(again.certificate.issuedAt > first.certificate.issuedAt)
            #expect(again.certificate.replica == replica && again.certificate.publicKey == key && again.certificate.member == member.id)
            try again.certificate.verify(trusting: ServerKeyRing(pinned: again.serverKey))
            let device = try #require(try await store.devices().first)
            #expect(device.device.token == record.id && device.tokenLabel == "re-issued")
            // Revoking the token it now uses revokes the device: the next registration is refused.
            #expect(try await store.revokeToken(id: record.id))
            let revocation = try #require(try await ServerAuthority(store: store).revocations(of: [replica])[replica])
            try revocation.verify(trusting: ServerKeyRing(pinned: again.serverKey))
            #expect(revocation.replica == replica && revocation.lastCounters.isEmpty)
            let (third, thirdRecord) = Tokens.issue(for: member.id, label: "third")
            try await store.storeToken(thirdRecord)
            let before = try await store.devices()
            try await Self.register(url, token: third, replica: replica, key: key).refusal(403, .revokedDevice)
            #expect(try await store.devices() == before)
            // The revoked token itself no longer authenticates.
            try await Self.register(url, token: reissued, replica: replica, key: key).refusal(401, .unauthorized)
        }
    }

    @Test(
        "malformed keys and replica ids are 400, another protocol 422, no token 401; nothing is registered", arguments: StoreKind.allCases)
    func badInput(_ kind: StoreKind) async throws {
        try await Self.withServer(kind) { url, accounts, store in
            let token = accounts.tokens["hill-member"]
            let key = SigningKeyPair().publicKey.base64
            let short = Data([UInt8](repeating: 7, count: 31)).base64EncodedString()
            let cases: [(String, Int, SyncErrorCode)] = [
                (#"{"protocol": 2, "replica": "00000000000000a1", "publicKey": "not base64!"}"#, 400, .malformedRequest),
                (#"{"protocol": 2, "replica": "00000000000000a1", "publicKey": "\#(short)"}"#, 400, .malformedRequest),
                (#"{"protocol": 2, "replica": "00000000000000a1"}"#, 400, .malformedRequest),
                (#"{"protocol": 2, "replica": "xyz", "publicKey": "\#(key)"}"#, 400, .malformedRequest),
                (#"{"protocol": 2, "replica": "0000000000000000", "publicKey": "\#(key)"}"#, 400, .malformedRequest),
                (#"{"protocol": 2, "replica": 161, "publicKey": "\#(key)"}"#, 400, .malformedRequest),
                (#"{"replica": "00000000000000a1", "publicKey": "\#(key)"}"#, 400, .malformedRequest),
                (#"not json"#, 400, .malformedRequest),
                (#"{"protocol": 1, "replica": "00000000000000a1", "publicKey": "\#(key)"}"#, 422, .unsupportedProtocol),
                (#"{"protocol": 3, "replica": "00000000000000a1", "publicKey": "\#(key)"}"#, 422, .unsupportedProtocol),
            ]
            for (body, status, code) in cases {
                try await Self.post(url, token: token, body: Data(body.utf8)).refusal(status, code)
            }
            let valid = Data(#"{"protocol": 2, "replica": "00000000000000a1", "publicKey": "\#(key)"}"#.utf8)
            try await Self.post(url, token: nil, body: valid).refusal(401, .unauthorized)
            try await Self.post(url, token: "dlg_not-a-token", body: valid).refusal(401, .unauthorized)
            try await Self.post(url, token: token, body: Data(repeating: 32, count: SyncServer.maxRegistrationBytes + 1))
                .refusal(413, .payloadTooLarge)
            #expect(try await store.devices().isEmpty)
            // The valid body is accepted (the cases above failed for their one fault).
            #expect(try await Self.post(url, token: token, body: valid).status == 200)
        }
    }
}
