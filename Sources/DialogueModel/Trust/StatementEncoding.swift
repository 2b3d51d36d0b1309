import Foundation

/// The canonical byte forms of docs/TRUST.md's "Signed statements": what is signed and
/// hashed. Frozen: a change here changes every signature (bump the statement's tag instead).
extension ByteWriter {
    /// Starts a statement with its tag (length-prefixed ASCII), e.g. `dialogue/chain-head/1`.
    static func statement(_ tag: String) -> ByteWriter {
        var writer = ByteWriter()
        writer.block(Array(tag.utf8))
        return writer
    }

    /// A UUID: its 16 bytes.
    mutating func uuid(_ value: UUID) {
        withUnsafeBytes(of: value.uuid) { bytes.append(contentsOf: $0) }
    }

    /// A replica: 8 bytes little-endian.
    mutating func replica(_ value: ReplicaID) { fixed64(value.rawValue) }

    /// A time: milliseconds since 1970, zig-zag LEB128.
    mutating func time(_ milliseconds: Int64) { signed(milliseconds) }

    /// A string: LEB128 byte count, then UTF-8.
    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in  // no copy of the text: the chain's hot path
            varint(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    /// A key: its 32 raw bytes.
    mutating func key(_ value: PublicSigningKey) { raw(value.rawRepresentation) }
}

/// JSON helpers shared by the statements: lower-case UUIDs, base64 byte strings of a fixed length.
extension KeyedDecodingContainer {
    func decodeUUID(forKey key: Key) throws -> UUID {
        let text = try decode(String.self, forKey: key)
        guard let uuid = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a UUID: \(text)")
        }
        return uuid
    }

    /// Standard base64 of exactly `count` bytes (a signature: 64; a hash: 32).
    func decodeBase64(forKey key: Key, count: Int) throws -> [UInt8] {
        let text = try decode(String.self, forKey: key)
        guard let data = Data(base64Encoded: text), data.count == count else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "expected \(count) bytes in standard base64: \(text)")
        }
        return Array(data)
    }
}

extension KeyedEncodingContainer {
    mutating func encodeUUID(_ value: UUID, forKey key: Key) throws {
        try encode(value.uuidString.lowercased(), forKey: key)
    }

    mutating func encodeBase64(_ bytes: [UInt8], forKey key: Key) throws {
        try encode(Data(bytes).base64EncodedString(), forKey: key)
    }
}

/// What a statement signed by the server shares: its signer and how to check it.
protocol ServerSignedStatement {
    var signer: PublicSigningKey { get }
    var signature: [UInt8] { get }
    var canonicalBytes: [UInt8] { get }
    /// The replica the statement is about, for error messages.
    var subjectReplica: ReplicaID? { get }
    /// The statement's name in error messages ("the device certificate of …").
    var statementName: String { get }
}

extension ServerSignedStatement {
    /// Checks that the signer is trusted by `ring` and that the signature verifies.
    func verifyServerSignature(trusting ring: ServerKeyRing) throws(TrustError) {
        try ring.requireTrust(signer)
        guard signer.isValidSignature(signature, for: canonicalBytes) else {
            throw .badSignature(
                replica: subjectReplica, counter: nil,
                reason: "\(statementName) does not verify under server key \(signer.fingerprint)")
        }
    }
}
