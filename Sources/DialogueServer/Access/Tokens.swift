import Crypto
import Foundation

/// Device tokens: random, shown once, stored only as SHA-256 hashes.
public enum Tokens {
    /// Every token starts with this, so a leaked one is recognisable (and greppable).
    public static let prefix = "dlg_"

    /// A fresh token (32 random bytes, URL-safe base64) and the record to store.
    public static func issue(for member: UUID, label: String) -> (token: String, record: TokenRecord) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token =
            prefix
            + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return (token, TokenRecord(id: UUID(), hash: hash(token), member: member, label: label, issuedAt: Date()))
    }

    /// The stored form of a token.
    public static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }
}
