import Crypto
import Foundation

/// An Ed25519 signing key pair: a device's key, or the server's long-term key.
///
/// The private half stays with its owner (the replica's database, the server's store);
/// only ``publicKey`` travels.
// @unchecked: the wrapped key is immutable after init (swift-crypto keeps its bytes in a
// buffer it never mutates), but swift-crypto does not declare it Sendable.
public struct SigningKeyPair: @unchecked Sendable {
    private let privateKey: Curve25519.Signing.PrivateKey
    /// The public half, computed once.
    public let publicKey: PublicSigningKey

    /// A fresh key pair from the system's secure random source.
    public init() {
        self.init(privateKey: Curve25519.Signing.PrivateKey())
    }

    /// The key pair whose private key is these 32 bytes (as ``rawRepresentation`` gave them).
    /// - Throws: ``TrustError/invalidKey(reason:)`` when they are not 32 bytes.
    public init(rawRepresentation: some Collection<UInt8>) throws {
        let bytes = Array(rawRepresentation)
        guard bytes.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes) else {
            throw TrustError.invalidKey(reason: "a private signing key is 32 bytes, found \(bytes.count)")
        }
        self.init(privateKey: key)
    }

    private init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
        // A valid private key always yields a valid 32-byte public key.
        self.publicKey = PublicSigningKey(rawRepresentation: privateKey.publicKey.rawRepresentation)!
    }

    /// The 32 private bytes, to store with their owner (never to send).
    public var rawRepresentation: [UInt8] { Array(privateKey.rawRepresentation) }

    /// The Ed25519 signature (64 bytes) of `bytes`.
    public func sign(_ bytes: [UInt8]) -> [UInt8] {
        // Ed25519 signing fails only on allocation failure inside BoringSSL.
        guard let signature = try? privateKey.signature(for: bytes) else {
            preconditionFailure("Ed25519 signing failed")
        }
        return Array(signature)
    }
}
