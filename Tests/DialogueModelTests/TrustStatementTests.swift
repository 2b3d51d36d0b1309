import Foundation
import Testing

@testable import DialogueModel

private typealias F = TrustFixtures

/// A UUID with one bit of byte `index` flipped.
private func flipping(_ uuid: UUID, at index: Int = 5) -> UUID {
    UUID(byteArray: flipping(withUnsafeBytes(of: uuid.uuid) { Array($0) }, at: index))
}

/// Another valid key: `key` with one byte changed (not every 32 bytes are a curve point).
private func flipping(_ key: PublicSigningKey) -> PublicSigningKey {
    for index in 0..<32 {
        if let other = PublicSigningKey(rawRepresentation: flipping(key.rawRepresentation, at: index)) { return other }
    }
    fatalError("no valid neighbour key")
}

private func flipping(_ text: String) -> String {
    String(decoding: flipping(Array(text.utf8), at: 0), as: UTF8.self)
}

private func expectRefused<S>(_ statement: S, _ what: String, _ verify: (S) throws(TrustError) -> Void) {
    #expect(throws: TrustError.self, "altered \(what) still verifies") { try verify(statement) }
}

/// Every one-field alteration of `statement` (and every one-bit change of its signature) is refused.
private func expectEveryAlterationRefused<S>(
    _ statement: S, signature: WritableKeyPath<S, [UInt8]>, fields: [(String, (inout S) -> Void)],
    verify: (S) throws(TrustError) -> Void
) throws {
    try verify(statement)
    for (name, alter) in fields {
        var altered = statement
        alter(&altered)
        expectRefused(altered, name, verify)
    }
    for index in 0..<64 {
        var altered = statement
        altered[keyPath: signature] = flipping(statement[keyPath: signature], at: index)
        expectRefused(altered, "signature byte \(index)", verify)
    }
}

@Suite("Trust: keys and signed statements")
struct TrustStatementTests {
    private let ring = ServerKeyRing(pinned: F.serverKey.publicKey)

    // MARK: keys

    @Test func keyPairRoundTripsThroughItsRawBytes() throws {
        let pair = SigningKeyPair()
        let again = try SigningKeyPair(rawRepresentation: pair.rawRepresentation)
        #expect(again.publicKey == pair.publicKey)
        #expect(pair.rawRepresentation.count == 32)
        let signature = pair.sign([1, 2, 3])
        #expect(signature.count == 64)
        #expect(again.publicKey.isValidSignature(signature, for: [1, 2, 3]))
        #expect(!again.publicKey.isValidSignature(signature, for: [1, 2, 4]))
        #expect(!SigningKeyPair().publicKey.isValidSignature(signature, for: [1, 2, 3]))
        #expect(throws: TrustError.self) { try SigningKeyPair(rawRepresentation: [UInt8](repeating: 1, count: 31)) }
    }

    @Test func publicKeyParsesOnlyThirtyTwoBytes() throws {
        let key = F.serverKey.publicKey
        #expect(PublicSigningKey(rawRepresentation: key.rawRepresentation) == key)
        #expect(PublicSigningKey(rawRepresentation: key.rawRepresentation.dropLast()) == nil)
        #expect(PublicSigningKey(base64: key.base64) == key)
        #expect(PublicSigningKey(base64: "not base64") == nil)
        let json = try JSONEncoder().encode([key])
        #expect(try JSONDecoder().decode([String].self, from: json) == [key.base64], "a base64 string")
        #expect(try JSONDecoder().decode([PublicSigningKey].self, from: json) == [key])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([PublicSigningKey].self, from: Data("[\"AAAA\"]".utf8)) }
    }

    /// The keys and fingerprints derived from fixed private bytes (computed with Python's
    /// `cryptography`): the fingerprint format cannot drift silently.
    @Test func frozenKeysAndFingerprints() {
        #expect(F.serverKey.publicKey.base64 == "ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=")
        #expect(F.serverKey.publicKey.fingerprint == "SHA256:ZbYGc9btiEvwHCwiLYKtoHQPKawzVdapJcgfF/R6J7g")
        #expect(F.deviceKey.publicKey.fingerprint == "SHA256:yUXL8qVgIAIUHi+50XBU1soGmVHfc/SdH4rKh/mHj2A")
        #expect(F.newServerKey.publicKey.fingerprint == "SHA256:MJfi3uLLSjS1OEDNtwWu1xBnw29o2w4PVZw/P6BDMV8")
        #expect(F.serverKey.publicKey.description == F.serverKey.publicKey.fingerprint)
    }

    // MARK: frozen canonical bytes

    /// Canonical bytes of each statement, computed apart from docs/TRUST.md, and the
    /// signatures Python made over them (Ed25519 is deterministic, but only verification is
    /// asserted: another implementation may randomise).
    @Test func frozenCanonicalBytesAndForeignSignatures() throws {
        #expect(
            F.certificate.canonicalBytes.hex
                == "1d6469616c6f6775652f6465766963652d63657274696669636174652f31efcdab8967452301e7f162a10bec559afea195e4dce84b69568d5d2cb0963eb446c0685e2b17f2f06f1c2a3b4d5e4f608a7b9c0d1e2f3a4b0c416461204c6f76656c6163650a1b2c3d4e5f4a6b8c7d8e9fa0b1c2d30bc389636f6c65204e6f7264f6c995a3de6679b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
        )
        #expect(
            F.revocation.canonicalBytes.hex
                == "1c6469616c6f6775652f6465766963652d7265766f636174696f6e2f31efcdab8967452301b0c18fa4de6602011111112222433384445555555555550711111111222243338444555555555555ac0279b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
        )
        #expect(
            F.directory.canonicalBytes.hex
                == "1a6469616c6f6775652f73706163652d6469726563746f72792f326f1c2a3b4d5e4f608a7b9c0d1e2f3a4be8cf95a3de6602011111112222433384445555555555550c4e6f72642070726976617465000a1b2c3d4e5f4a6b8c7d8e9fa0b1c2d300111111112222433384445555555555550b4e6f7264e2809353c3bc64019999999988884777866655555555555502ff0000000000000005efcdab8967452301ac0279b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
        )
        #expect(
            F.endorsement.canonicalBytes.hex
                == "216469616c6f6775652f7365727665722d6b65792d656e646f7273656d656e742f312152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db1279b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad04966480d18fa4de66"
        )
        #expect(
            F.head.canonicalBytes.hex
                == "156469616c6f6775652f636861696e2d686561642f3111111111222243338444555555555555efcdab8967452301ac026465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283"
        )

        func foreign(_ base64: String) -> [UInt8] { Array(Data(base64Encoded: base64)!) }
        var certificate = F.certificate
        certificate.signature = foreign("nGRjX23bVU7SuI43NJgsXFj/y7phDioW4ofBOQI3xa9ZDgZ9Rz1hp0gHqDyDPKTzbeHXASwUYDWT5CvLb1UBAg==")
        try certificate.verify(trusting: ring)
        var revocation = F.revocation
        revocation.signature = foreign("k+INuCjW9m5j2WH5ARXx7By0v0o9EnMRVVbJ4hwNt67EKznpNlnrKpUk0YT8jP6sIbz+80a+wC6FNeiqg/OgDQ==")
        try revocation.verify(trusting: ring)
        var directory = F.directory
        directory.signature = foreign("UVpPFlPw46cDCjV1/kNJ83swhbRXz3xlDXOvvR8ZfPKUkbE+ESlvC368P20nEZwk0t77Y8xF3O92cszbZbsTCw==")
        try directory.verify(trusting: ring)
        var endorsement = F.endorsement
        endorsement.signature = foreign("ogVdZVqg07hmnwS+pZKoxdOWb50pZ8HVxI/E41dnykp5nAS8V6thXrY9dIFvLfhobmq91Pfv4JQlDHQtII6RBQ==")
        try endorsement.verify()
        var head = F.head
        head.signature = foreign("eJScxKUI231zQA2pGcFZA93AtQRZSgPlHvB3kEzx9YTNcDY8QzCLh00oYcVlVuRWe229TY6X17gXUChUJcJADQ==")
        try head.verify(signedBy: F.deviceKey.publicKey)
    }

    /// A directory listing a personal space (kind byte 2, owner the member), computed apart
    /// with Python's `cryptography` from docs/TRUST.md (/tmp script in the commit message).
    @Test func frozenPersonalDirectory() throws {
        let directory = F.personalDirectory
        #expect(
            directory.canonicalBytes.hex
                == "1a6469616c6f6775652f73706163652d6469726563746f72792f326f1c2a3b4d5e4f608a7b9c0d1e2f3a4bf8d295a3de6602011111112222433384445555555555550c4e6f72642070726976617465000a1b2c3d4e5f4a6b8c7d8e9fa0b1c2d3002111111122224333844455555555555522506572736f6e616c207265666c656374696f6e2028416461204c6f76656c61636529026f1c2a3b4d5e4f608a7b9c0d1e2f3a4b0079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
        )
        var foreign = directory
        foreign.signature = Array(
            Data(base64Encoded: "yAiTkPiqm7LX69mk4NER+sRv41bdMLlL000IqiP7+ebFDoJHMiZ4PGzafM7NOMd3X/qmH8vAMDhY4JkTNP0WCA==")!)
        try foreign.verify(trusting: ring)
        let object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(directory)) as? [String: Any])
        let entries = try #require(object["entries"] as? [[String: Any]])
        #expect(entries.map { $0["kind"] as? String } == ["private", "personal"])
        #expect(entries.last?["owner"] as? String == F.member.uuidString.lowercased())
        #expect(try roundTrip(directory).canonicalBytes == directory.canonicalBytes)
        // The kind is signed: a personal entry relabelled shared no longer verifies.
        var relabelled = directory
        var listed = relabelled.entries
        listed[1].kind = .shared
        relabelled = SpaceDirectory(
            member: directory.member, issuedAt: directory.issuedAt, entries: listed, signer: directory.signer,
            signature: directory.signature)
        #expect(throws: TrustError.self) { try relabelled.verify(trusting: ring) }
    }

    /// The people directory (issue 14, item 2), bytes, digest and signature computed apart
    /// from docs/TRUST.md's table with Python's `cryptography`.
    @Test func frozenPeopleDirectory() throws {
        let partner = UUID(uuidString: "f0000000-0000-4000-8000-00000000000a")!
        let ben = UUID(uuidString: "00000000-aaaa-4bbb-8ccc-000000000001")!
        let directory = PeopleDirectory.issue(
            member: F.member, issuedAt: 1_765_000_000_900,
            schools: [.init(id: partner, name: "Süd Academy"), .init(id: F.school, name: "École Nord")],
            people: [.init(id: F.member, name: "Ada Lovelace", school: F.school), .init(id: ben, name: "Ben Okafor", school: partner)],
            signedBy: F.serverKey)
        #expect(
            directory.canonicalBytes.hex
                == "1b6469616c6f6775652f70656f706c652d6469726563746f72792f316f1c2a3b4d5e4f608a7b9c0d1e2f3a4b020a1b2c3d4e5f4a6b8c7d8e9fa0b1c2d30bc389636f6c65204e6f7264f000000000004000800000000000000a0c53c3bc642041636164656d790200000000aaaa4bbb8ccc0000000000010a42656e204f6b61666f72f000000000004000800000000000000a6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b0c416461204c6f76656c6163650a1b2c3d4e5f4a6b8c7d8e9fa0b1c2d388d695a3de6679b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
        )
        #expect(directory.contentDigest == "366a0aa7b72900ec59ea081b6e631c834f64ced9c76af5375529358a0903cfd8")
        var foreign = directory
        foreign.signature = Array(
            Data(base64Encoded: "xrGx/pfURvwSWWeYwyGI38ZJtVVULG42gV5tC9RW0KseJInJXKVwafQsm5Av+M60pBnqy55DoZqFUsY6x1hRCw==")!)
        try foreign.verify(trusting: ring)
        #expect(try roundTrip(directory).canonicalBytes == directory.canonicalBytes)
        // The time is signed but is not content: a later issue of the same people has the same digest.
        let later = PeopleDirectory.issue(
            member: F.member, issuedAt: 1_765_000_009_000, schools: directory.schools, people: directory.people, signedBy: F.serverKey)
        #expect(later.contentDigest == directory.contentDigest && later.canonicalBytes != directory.canonicalBytes)
        // A name changed after signing no longer verifies.
        var renamed = directory.people
        renamed[0].name = "Ben O."
        let forged = PeopleDirectory(
            member: F.member, issuedAt: directory.issuedAt, schools: directory.schools, people: renamed, signer: directory.signer,
            signature: directory.signature)
        #expect(throws: TrustError.self) { try forged.verify(trusting: ring) }
        // A member listed twice is refused on reading.
        let json = String(decoding: try JSONEncoder().encode(directory), as: UTF8.self)
        let twice = json.replacingOccurrences(
            of: "\"people\":[",
            with:
                "\"people\":[{\"id\":\"\(ben.uuidString.lowercased())\",\"name\":\"x\",\"school\":\"\(partner.uuidString.lowercased())\"},")
        #expect(twice != json)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(PeopleDirectory.self, from: Data(twice.utf8)) }
    }

    // MARK: JSON

    private func roundTrip<S: Codable & Equatable>(_ statement: S) throws -> S {
        let decoded = try JSONDecoder().decode(S.self, from: JSONEncoder().encode(statement))
        #expect(decoded == statement)
        return decoded
    }

    @Test func jsonRoundTripsKeepCanonicalBytesAndSignatures() throws {
        try roundTrip(F.certificate).verify(trusting: ring)
        try roundTrip(F.revocation).verify(trusting: ring)
        try roundTrip(F.directory).verify(trusting: ring)
        try roundTrip(F.endorsement).verify()
        try roundTrip(F.head).verify(certifiedBy: F.certificate)
        #expect(try roundTrip(F.certificate).canonicalBytes == F.certificate.canonicalBytes)
        #expect(try roundTrip(F.revocation).canonicalBytes == F.revocation.canonicalBytes)
        #expect(try roundTrip(F.directory).canonicalBytes == F.directory.canonicalBytes)
    }

    /// The JSON form has the fields by name, in the documented shapes; field order and
    /// whitespace do not matter to the signature.
    @Test func jsonFormHasTheDocumentedFields() throws {
        let certificate = F.certificate
        let object = try #require(
            JSONSerialization.jsonObject(with: JSONEncoder().encode(certificate)) as? [String: Any])
        #expect(object["replica"] as? String == "0123456789abcdef")
        #expect(object["member"] as? String == "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")
        #expect(object["issuedAt"] as? Int64 == 1_765_000_000_123)
        #expect(object["publicKey"] as? String == F.deviceKey.publicKey.base64)
        #expect(object["signer"] as? String == F.serverKey.publicKey.base64)
        #expect(object["signature"] as? String == Data(certificate.signature).base64EncodedString())
        #expect(
            Set(object.keys) == ["replica", "publicKey", "member", "memberName", "school", "schoolName", "issuedAt", "signer", "signature"])

        let reordered = """
            { "signature": "\(Data(certificate.signature).base64EncodedString())",
              "signer": "\(F.serverKey.publicKey.base64)", "issuedAt": 1765000000123,
              "schoolName": "École Nord", "school": "0A1B2C3D-4E5F-4A6B-8C7D-8E9FA0B1C2D3",
              "memberName": "Ada Lovelace", "member": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
              "publicKey": "\(F.deviceKey.publicKey.base64)", "replica": "0123456789abcdef" }
            """
        let decoded = try JSONDecoder().decode(DeviceCertificate.self, from: Data(reordered.utf8))
        #expect(decoded.canonicalBytes == certificate.canonicalBytes)
        try decoded.verify(trusting: ring)

        let revocation = try #require(
            JSONSerialization.jsonObject(with: JSONEncoder().encode(F.revocation)) as? [String: Any])
        let counters = try #require(revocation["lastCounters"] as? [[String: Any]])
        #expect(counters.map { $0["space"] as? String } == [F.space2.description, F.space1.description], "sorted by space")
        #expect(counters.map { $0["lastCounter"] as? Int } == [7, 300])

        let directory = try #require(
            JSONSerialization.jsonObject(with: JSONEncoder().encode(F.directory)) as? [String: Any])
        let entries = try #require(directory["entries"] as? [[String: Any]])
        #expect(entries.map { $0["kind"] as? String } == ["private", "shared"])
        #expect(entries.map { $0["name"] as? String } == ["Nord private", "Nord–Süd"])
        let legacy = entries.compactMap { $0["legacy"] as? [[String: Any]] }
        try #require(legacy.count == 2, "every entry has a legacy list")
        #expect(legacy[0].isEmpty)
        #expect(legacy[1].map { $0["replica"] as? String } == ["00000000000000ff", "0123456789abcdef"], "sorted by replica")
        #expect(legacy[1].map { $0["counter"] as? Int } == [5, 300])

        let head = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(F.head)) as? [String: Any])
        #expect(head["hash"] as? String == Data(Array(100..<132) as [UInt8]).base64EncodedString())
        #expect(head["counter"] as? Int == 300)
    }

    @Test func jsonRefusesMalformedFields() throws {
        let good = try JSONSerialization.jsonObject(with: JSONEncoder().encode(F.head)) as! [String: Any]
        for (field, value) in [
            ("hash", "AAAA"), ("signature", Data(count: 63).base64EncodedString()), ("replica", "12"),
            ("space", "nope"),
        ] {
            var bad = good
            bad[field] = value
            #expect(throws: DecodingError.self, "\(field) = \(value)") {
                try JSONDecoder().decode(ChainHead.self, from: JSONSerialization.data(withJSONObject: bad))
            }
        }
        var twice = try JSONSerialization.jsonObject(with: JSONEncoder().encode(F.directory)) as! [String: Any]
        let entries = twice["entries"] as! [Any]
        twice["entries"] = entries + [entries[0]]
        #expect(throws: DecodingError.self, "a space listed twice") {
            try JSONDecoder().decode(SpaceDirectory.self, from: JSONSerialization.data(withJSONObject: twice))
        }
        // A legacy vector naming a replica twice, or a counter 0 (not canonical), or missing.
        for legacy: Any in [
            [["replica": "00000000000000ff", "counter": 5], ["replica": "00000000000000ff", "counter": 6]],
            [["replica": "00000000000000ff", "counter": 0]],
            NSNull(),
        ] {
            var bad = try JSONSerialization.jsonObject(with: JSONEncoder().encode(F.directory)) as! [String: Any]
            var listed = bad["entries"] as! [[String: Any]]
            listed[0]["legacy"] = legacy
            bad["entries"] = listed
            #expect(throws: DecodingError.self, "legacy = \(legacy)") {
                try JSONDecoder().decode(SpaceDirectory.self, from: JSONSerialization.data(withJSONObject: bad))
            }
        }
    }

    // MARK: alterations

    @Test func everyAlteredCertificateFieldOrSignatureIsRefused() throws {
        try expectEveryAlterationRefused(
            F.certificate, signature: \.signature,
            fields: [
                ("replica", { $0.replica = ReplicaID(rawValue: $0.replica.rawValue ^ 1)! }),
                ("publicKey", { $0.publicKey = flipping($0.publicKey) }),
                ("member", { $0.member = flipping($0.member) }),
                ("memberName", { $0.memberName = flipping($0.memberName) }),
                ("school", { $0.school = flipping($0.school, at: 15) }),
                ("schoolName", { $0.schoolName = flipping($0.schoolName) }),
                ("issuedAt", { $0.issuedAt ^= 1 }),
                ("signer", { $0.signer = flipping($0.signer) }),
            ], verify: { (statement: DeviceCertificate) throws(TrustError) in try statement.verify(trusting: ring) })
    }

    @Test func everyAlteredRevocationFieldOrSignatureIsRefused() throws {
        try expectEveryAlterationRefused(
            F.revocation, signature: \.signature,
            fields: [
                ("replica", { $0.replica = ReplicaID(rawValue: $0.replica.rawValue ^ 0x100)! }),
                ("revokedAt", { $0.revokedAt ^= 1 }),
                ("a last counter", { $0.lastCounters[F.space1]! ^= 1 }),
                ("a space", { $0.lastCounters = [F.space1: 300, SpaceID(flipping(F.space2.uuid)): 7] }),
                ("a space dropped", { $0.lastCounters[F.space2] = nil }),
                ("signer", { $0.signer = flipping($0.signer) }),
            ], verify: { (statement: DeviceRevocation) throws(TrustError) in try statement.verify(trusting: ring) })
    }

    @Test func everyAlteredDirectoryFieldOrSignatureIsRefused() throws {
        func entries(_ alter: @escaping (inout [SpaceDirectory.Entry]) -> Void) -> (inout SpaceDirectory) -> Void {
            { directory in
                var entries = directory.entries
                alter(&entries)
                directory = SpaceDirectory(
                    member: directory.member, issuedAt: directory.issuedAt, entries: entries, signer: directory.signer,
                    signature: directory.signature)
            }
        }
        try expectEveryAlterationRefused(
            F.directory, signature: \.signature,
            fields: [
                ("member", { $0.member = flipping($0.member) }),
                ("issuedAt", { $0.issuedAt ^= 1 }),
                ("an entry's space", entries { $0[0].space = SpaceID(flipping($0[0].space.uuid)) }),
                ("an entry's name", entries { $0[1].name = flipping($0[1].name) }),
                ("an entry's kind", entries { $0[0].kind = .shared }),
                ("an entry's owner", entries { $0[1].owner = flipping($0[1].owner) }),
                ("a legacy counter", entries { $0[1].legacy[F.replica] ^= 1 }),
                ("a legacy replica", entries { $0[1].legacy = VersionVector([ReplicaID(rawValue: 0xfe)!: 5, F.replica: 300]) }),
                ("a legacy vector added", entries { $0[0].legacy = VersionVector([F.replica: 1]) }),
                ("a legacy vector dropped", entries { $0[1].legacy = VersionVector() }),
                ("an entry added", entries { $0.append(.init(space: SpaceID(UUID()), name: "x", kind: .private, owner: F.school)) }),
                ("an entry dropped", entries { $0.removeLast() }),
                ("signer", { $0.signer = flipping($0.signer) }),
            ], verify: { (statement: SpaceDirectory) throws(TrustError) in try statement.verify(trusting: ring) })
    }

    @Test func everyAlteredEndorsementFieldOrSignatureIsRefused() throws {
        try expectEveryAlterationRefused(
            F.endorsement, signature: \.signature,
            fields: [
                ("newKey", { $0.newKey = flipping($0.newKey) }),
                ("previousKey", { $0.previousKey = flipping($0.previousKey) }),
                ("issuedAt", { $0.issuedAt ^= 1 }),
            ], verify: { (statement: ServerKeyEndorsement) throws(TrustError) in try statement.verify() })
    }

    @Test func everyAlteredChainHeadFieldOrSignatureIsRefused() throws {
        try expectEveryAlterationRefused(
            F.head, signature: \.signature,
            fields: [
                ("space", { $0.space = SpaceID(flipping($0.space.uuid)) }),
                ("replica", { $0.replica = ReplicaID(rawValue: $0.replica.rawValue ^ 1)! }),
                ("counter", { $0.counter ^= 1 }),
                ("hash", { $0.hash = flipping($0.hash, at: 31) }),
                ("hash truncated", { $0.hash.removeLast() }),
            ], verify: { (statement: ChainHead) throws(TrustError) in try statement.verify(signedBy: F.deviceKey.publicKey) })
        #expect(throws: TrustError.self, "signed by another device") {
            try F.head.verify(signedBy: SigningKeyPair().publicKey)
        }
        var otherCertificate = F.certificate
        otherCertificate.replica = ReplicaID(rawValue: 7)!
        #expect(throws: TrustError.self, "checked against another replica's certificate") {
            try F.head.verify(certifiedBy: otherCertificate)
        }
    }

    /// A statement signed by a key the ring does not trust is refused naming both
    /// fingerprints, even though its signature is sound.
    @Test func statementsSignedByAnUnendorsedKeyAreRefused() throws {
        let stranger = SigningKeyPair()
        let certificate = DeviceCertificate.issue(
            replica: F.replica, publicKey: F.deviceKey.publicKey, member: F.member, memberName: "Ada", school: F.school,
            schoolName: "Nord", issuedAt: 1, signedBy: stranger)
        let expected = TrustError.untrustedServerKey(
            presented: stranger.publicKey.fingerprint, pinned: F.serverKey.publicKey.fingerprint)
        #expect(throws: expected) { try certificate.verify(trusting: ring) }
        #expect(throws: expected) {
            try DeviceRevocation.issue(replica: F.replica, revokedAt: 1, lastCounters: [:], signedBy: stranger)
                .verify(trusting: ring)
        }
        #expect(throws: expected) {
            try SpaceDirectory.issue(member: F.member, issuedAt: 1, entries: [], signedBy: stranger).verify(trusting: ring)
        }
        #expect(expected.code == "untrusted_server_key")
        #expect(expected.description.contains(stranger.publicKey.fingerprint))
        #expect(expected.description.contains(F.serverKey.publicKey.fingerprint))
    }

    @Test func directoryLooksUpEntriesBySpace() {
        let directory = F.directory
        #expect(directory.entries.map(\.space) == [F.space2, F.space1], "sorted by space")
        #expect(directory.entry(for: F.space1)?.name == "Nord–Süd")
        #expect(directory.entry(for: F.space2)?.kind == .private)
        #expect(directory.entry(for: SpaceID(UUID())) == nil)
        #expect(F.revocation.lastCounter(in: F.space1) == 300)
        #expect(F.revocation.lastCounter(in: SpaceID(UUID())) == 0)
    }

    @Test func errorCodesAreStable() {
        let dot = Dot(F.replica, 3)
        let errors: [(TrustError, String)] = [
            (.unknownDevice(F.replica), "unknown_device"),
            (.badSignature(replica: F.replica, counter: 3, reason: "x"), "bad_signature"),
            (.revokedDevice(F.replica, lastAccepted: 2, counter: 3), "revoked_device"),
            (.replicaTaken(F.replica), "replica_taken"),
            (.authorMismatch(dot, claimed: F.member, certified: F.school), "author_mismatch"),
            (.untrustedServerKey(presented: "a", pinned: "b"), "untrusted_server_key"),
            (.counterGap(F.replica, held: 2, first: 4), "counter_gap"),
            (.invalidKey(reason: "x"), "invalid_key"),
        ]
        for (error, code) in errors {
            #expect(error.code == code)
            #expect(!error.description.isEmpty)
        }
        #expect(TrustError.revokedDevice(F.replica, lastAccepted: 2, counter: 3).description.contains("after counter 2"))
    }
}
