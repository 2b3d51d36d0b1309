import Foundation

/// How a ``RunSequence`` orders concurrent insertions at one place. A space's texts all
/// use one order, fixed by the space's id (``init(textIn:)``), so every replica of a
/// space, whatever its code version, orders the space's texts alike (docs/DESIGN.md,
/// "The text order is a property of the space").
public enum InsertionOrder: Sendable, Hashable {
    /// YATA as Yjs implements it: insertions between the same origins ordered by
    /// replica; one whose left origin lies inside a concurrent run stays with that run.
    /// The order of every space created before FugueMax, and of ordered lists.
    case yata
    /// FugueMax (Weidner & Kleppmann, "The Art of the Fugue", 2023, Definition 6), ties
    /// between siblings broken by the lower replica first: maximally non-interleaving.
    /// The order of spaces whose id carries the FugueMax marker.
    case fugueMax

    /// The order of the texts of `space`: FugueMax when its id is a UUIDv8 whose
    /// bytes 6 and 7 read `8F 01` (see ``SpaceID/minted(textOrder:using:)``), YATA for
    /// every other id (all spaces created before, which are random version-4 UUIDs).
    public init(textIn space: SpaceID) {
        let bytes = space.uuid.uuid
        self = bytes.6 == 0x8F && bytes.7 == 0x01 ? .fugueMax : .yata
    }
}

extension SpaceID {
    /// A new random space id whose texts are ordered by `textOrder`: for `.fugueMax`, a
    /// UUIDv8 (RFC 9562) with bytes 6 and 7 set to `8F 01` and the RFC variant; for
    /// `.yata`, a random version-4 UUID, as every space had before.
    public static func minted(textOrder: InsertionOrder, using generator: inout some RandomNumberGenerator) -> SpaceID {
        let random = SpaceID.random(using: &generator)
        guard textOrder == .fugueMax else { return random }
        var bytes = random.uuid.uuid
        bytes.6 = 0x8F
        bytes.7 = 0x01
        bytes.8 = (bytes.8 & 0x3F) | 0x80
        return SpaceID(UUID(uuid: bytes))
    }
}
