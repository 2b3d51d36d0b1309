/// Identifies one replica (a device's database, or a server) for ever.
///
/// A random 64-bit number, as Loro's `PeerID`: small enough to repeat in every
/// character ID of the text CRDT, large enough that a partnership of a few thousand
/// devices will not see a collision (birthday bound ~ 2^-40). Zero is reserved.
/// The numeric order is the tie-break between concurrent writes with equal timestamps.
public struct ReplicaID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The raw value; never zero.
    public let rawValue: UInt64

    /// Creates an identifier from a raw value, or `nil` for the reserved zero.
    public init?(rawValue: UInt64) {
        guard rawValue != 0 else { return nil }
        self.rawValue = rawValue
    }

    /// Creates a fresh identifier from the given generator (injected so tests are reproducible).
    public static func random(using generator: inout some RandomNumberGenerator) -> ReplicaID {
        ReplicaID(rawValue: UInt64.random(in: 1...UInt64.max, using: &generator))!
    }

    /// Creates a fresh identifier from the system's random source.
    public static func random() -> ReplicaID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// Sixteen lower-case hex digits.
    public var description: String {
        let hex = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Parses the sixteen-hex-digit form of ``description``.
    public init?(_ text: String) {
        guard text.count == 16, let value = UInt64(text, radix: 16) else { return nil }
        self.init(rawValue: value)
    }

    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = ReplicaID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a replica ID: \(text)")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
