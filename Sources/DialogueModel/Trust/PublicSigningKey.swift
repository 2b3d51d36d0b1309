import Crypto
import Foundation

/// An Ed25519 public key (32 raw bytes): a device's key or the server's.
///
/// Travels in JSON as standard base64; shown to people as its ``fingerprint``, as ssh
/// shows host keys.
public struct PublicSigningKey: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The 32 raw bytes.
    public let rawRepresentation: [UInt8]

    /// A key from its 32 raw bytes, or `nil` when they are not a valid Ed25519 public key.
    public init?(rawRepresentation: some Collection<UInt8>) {
        let bytes = Array(rawRepresentation)
        guard bytes.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil else { return nil }
        self.rawRepresentation = bytes
    }

    /// A key from its standard base64 form (``base64``), or `nil`.
    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64) else { return nil }
        self.init(rawRepresentation: data)
    }

    /// The standard base64 of the raw bytes (with padding), as in JSON.
    public var base64: String { Data(rawRepresentation).base64EncodedString() }

    /// `SHA256:` and the unpadded standard base64 of SHA-256 of the raw key, as ssh prints
    /// host keys (`SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU`).
    public var fingerprint: String {
        "SHA256:" + Base64.unpadded(Array(SHA256.hash(data: rawRepresentation)))
    }

    public var description: String { fingerprint }

    /// Whether `signature` is this key's Ed25519 signature of `bytes`.
    public func isValidSignature(_ signature: [UInt8], for bytes: [UInt8]) -> Bool {
        guard signature.count == 64, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else {
            return false
        }
        return key.isValidSignature(signature, for: bytes)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let key = PublicSigningKey(base64: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a public key (32 bytes in standard base64): \(text)")
        }
        self = key
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(base64)
    }
}

/// Standard base64 (RFC 4648 §4) helpers.
enum Base64 {
    /// Without the trailing `=` padding (fingerprints).
    static func unpadded(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}
