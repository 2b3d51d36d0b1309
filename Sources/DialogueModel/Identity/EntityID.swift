import Foundation

/// Identifies an entity (a session, an insight, a school…) everywhere, across spaces.
///
/// Random 128-bit, so that two offline devices can create entities without
/// coordinating, and a reference from one space to another never collides.
public struct EntityID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let uuid: UUID

    public init(_ uuid: UUID) { self.uuid = uuid }

    /// Parses the canonical UUID text form.
    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// A fresh identifier drawn from the given generator.
    public static func random(using generator: inout some RandomNumberGenerator) -> EntityID {
        EntityID(UUID.random(using: &generator))
    }

    /// Lower-case canonical UUID text: the same on every platform, so exports are stable.
    public var description: String { uuid.uuidString.lowercased() }

    /// Hashes the 128 bits as two words: cheaper than hashing them as a byte buffer.
    public func hash(into hasher: inout Hasher) { uuid.hashWords(into: &hasher) }

    public static func == (lhs: EntityID, rhs: EntityID) -> Bool { lhs.uuid.words == rhs.uuid.words }

    public static func < (lhs: EntityID, rhs: EntityID) -> Bool { lhs.uuid.bytes.lexicographicallyPrecedes(rhs.uuid.bytes) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = EntityID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an entity ID: \(text)")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Identifies a space: the unit of replication and access (one per partnership, one per school).
public struct SpaceID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let uuid: UUID

    public init(_ uuid: UUID) { self.uuid = uuid }

    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    public static func random(using generator: inout some RandomNumberGenerator) -> SpaceID {
        SpaceID(UUID.random(using: &generator))
    }

    public var description: String { uuid.uuidString.lowercased() }

    /// Hashes the 128 bits as two words: cheaper than hashing them as a byte buffer.
    public func hash(into hasher: inout Hasher) { uuid.hashWords(into: &hasher) }

    public static func == (lhs: SpaceID, rhs: SpaceID) -> Bool { lhs.uuid.words == rhs.uuid.words }

    public static func < (lhs: SpaceID, rhs: SpaceID) -> Bool { lhs.uuid.bytes.lexicographicallyPrecedes(rhs.uuid.bytes) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = SpaceID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a space ID: \(text)")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension UUID {
    /// A version-4 UUID from an injected generator.
    static func random(using generator: inout some RandomNumberGenerator) -> UUID {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<16 { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(byteArray: bytes)
    }

    /// Builds a UUID from exactly 16 bytes.
    init(byteArray b: [UInt8]) {
        precondition(b.count == 16)
        self.init(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    /// The 128 bits as two machine words.
    var words: (UInt64, UInt64) {
        withUnsafeBytes(of: uuid) {
            ($0.loadUnaligned(fromByteOffset: 0, as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }

    func hashWords(into hasher: inout Hasher) {
        let (high, low) = words
        hasher.combine(high)
        hasher.combine(low)
    }

    /// The 16 bytes, in order.
    var bytes: [UInt8] {
        withUnsafeBytes(of: uuid) { Array($0) }
    }
}
