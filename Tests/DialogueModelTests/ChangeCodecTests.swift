import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueModel

// MARK: - Random valid changes

/// Draws valid changes that between them use every operation and every value kind,
/// with the awkward inputs a codec gets wrong: extreme counters and clocks, negative
/// numbers, non-ASCII and emoji names, NUL bytes.
private struct ChangeGenerator {
    var random: SplitMix64
    let replicas: [ReplicaID]
    let spaces: [SpaceID]
    let entities: [EntityID]

    /// Field names, kinds and string values. Holds no two canonically equivalent strings
    /// (such as "é" and "e\u{301}"): the codec's string table conflates those (see
    /// `canonicallyEquivalentStringsKeepTheirScalars`), and the round trip here is byte-exact.
    static let names = [
        "", "title", "a", "é", "日本語のテキスト", "🙂", "👩‍👩‍👧‍👦", "🇳🇿", "\u{0}", "line\nbreak", "tab\there", "\u{FFFD}",
        "\u{10FFFF}", "ß", "Ωμέγα", "\"quoted\\\"", String(repeating: "long-", count: 60),
    ]

    init(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var replicas = [ReplicaID(rawValue: 1)!, ReplicaID(rawValue: UInt64.max)!, ReplicaID(rawValue: 1 << 63)!]
        for _ in 0..<Int.random(in: 1...4, using: &random) { replicas.append(.random(using: &random)) }
        let spaces = (0..<Int.random(in: 1...3, using: &random)).map { _ in SpaceID.random(using: &random) }
        var entities = (0..<Int.random(in: 1...5, using: &random)).map { _ in EntityID.random(using: &random) }
        entities.append(EntityID(UUID(byteArray: [UInt8](repeating: 0xFF, count: 16))))
        entities.append(EntityID(UUID(byteArray: [UInt8](repeating: 0x00, count: 16))))
        self.random = random
        self.replicas = replicas
        self.spaces = spaces
        self.entities = entities
    }

    mutating func bool() -> Bool { Bool.random(using: &random) }

    mutating func pick<T>(_ values: [T]) -> T { values.randomElement(using: &random)! }

    /// A UInt64 in `range`, often at its edges or at varint length boundaries.
    mutating func uint64(in range: ClosedRange<UInt64>) -> UInt64 {
        let edges: [UInt64] = [
            range.lowerBound, range.upperBound, range.lowerBound &+ 1, range.upperBound &- 1, 127, 128, 16_383, 16_384,
            (1 << 32) - 1, 1 << 32, (1 << 63) - 1, 1 << 63,
        ].filter(range.contains)
        switch UInt8.random(in: 0..<4, using: &random) {
        case 0: return pick(edges)
        case 1:
            let top = range.upperBound - range.lowerBound > 1_000 ? range.lowerBound + 1_000 : range.upperBound
            return UInt64.random(in: range.lowerBound...top, using: &random)
        default: return UInt64.random(in: range, using: &random)
        }
    }

    mutating func int64() -> Int64 {
        if bool() {
            return pick([0, 1, -1, 63, 64, -64, -65, Int64.min, Int64.max, Int64.min + 1, Int64.max - 1])
        }
        return Int64.random(in: Int64.min...Int64.max, using: &random)
    }

    mutating func name() -> String { pick(Self.names) }

    /// Non-empty text, one counter per Unicode scalar.
    mutating func text() -> String {
        var text = ""
        for _ in 0..<Int.random(in: 1...4, using: &random) { text += pick(Self.names + ["e\u{301}", "A\u{30A}", "\u{301}"]) }
        return text.isEmpty ? "x" : text
    }

    mutating func dot() -> Dot { Dot(pick(replicas), uint64(in: 1...UInt64.max)) }

    mutating func dots() -> [Dot] { (0..<Int.random(in: 0...4, using: &random)).map { _ in dot() } }

    mutating func origin() -> Dot? { bool() ? nil : dot() }

    mutating func timestamp() -> HLCTimestamp {
        HLCTimestamp(
            wallTime: bool() ? uint64(in: 0...UInt64.max) : UInt64.random(in: 1_600_000_000_000...1_800_000_000_000, using: &random),
            logical: bool() ? pick([0, 1, UInt16.max, UInt16.max - 1]) : UInt16.random(in: 0...UInt16.max, using: &random))
    }

    mutating func value(_ kind: Int) -> FieldValue {
        switch kind {
        case 0: .null
        case 1: .bool(false)
        case 2: .bool(true)
        case 3: .int(int64())
        case 4: .string(name())
        case 5: .timestamp(int64())
        default: .reference(pick(entities))
        }
    }

    static let valueKinds = 7

    mutating func value() -> FieldValue { value(Int.random(in: 0..<Self.valueKinds, using: &random)) }

    static let operationKinds = 11
    static let approvalKey = try! SigningKeyPair(rawRepresentation: [UInt8](repeating: 7, count: 32))

    mutating func erasureTarget() -> Erasure.Target {
        switch Int.random(in: 0..<3, using: &random) {
        case 0: .entity(pick(entities))
        case 1: .field(pick(entities), name())
        default: .contributions(member: pick(entities).uuid, replicas: Array(Set((0...2).map { _ in pick(replicas) })).sorted())
        }
    }

    mutating func operation(_ kind: Int) -> DialogueModel.Operation {
        switch kind {
        case 0: return .create(kind: name(), predecessors: dots())
        case 1:
            var observed = VersionVector()
            for _ in 0..<Int.random(in: 0...4, using: &random) { observed.record(dot()) }
            return .delete(observed: observed)
        case 2: return .set(value(), predecessors: dots())
        case 3: return .add(value())
        case 4: return .remove(value(), observed: dots())
        case 5: return .insertText(originLeft: origin(), originRight: origin(), text: text())
        case 6:
            // Total length stays far below UInt64.max so that the change's counters fit.
            let ranges = (0..<Int.random(in: 1...4, using: &random)).map { _ in
                let length = bool() ? UInt64.random(in: 1...20, using: &random) : uint64(in: 1...(1 << 40))
                return try! DotRange(replica: pick(replicas), firstCounter: uint64(in: 1...(UInt64.max - length)), length: length)
            }
            return .deleteText(ranges)
        case 7: return .insertItem(originLeft: origin(), originRight: origin(), value: value())
        case 8: return .moveItem(element: dot(), originLeft: origin(), originRight: origin(), predecessors: dots())
        case 9: return .removeItem(element: dot())
        default:
            let target = erasureTarget()
            let approval =
                bool()
                ? ErasureApproval.issue(
                    space: pick(spaces), replica: pick(replicas), target: bool() ? target : erasureTarget(), issuedAt: int64(),
                    signedBy: Self.approvalKey) : nil
            return .erase(Erasure(target: target, approval: approval))
        }
    }

    mutating func change(_ operation: DialogueModel.Operation) -> Change {
        let span = operation.counterSpan
        // The counters id ... id + span - 1 must fit, and id + span too (the decoder's next expected counter).
        let counter = uint64(in: 1...(UInt64.max - span))
        return Change(
            id: Dot(pick(replicas), counter), timestamp: timestamp(), space: pick(spaces), entity: pick(entities), field: name(),
            dependencies: dots(), operation: operation)
    }

    /// A batch holding every operation kind and every value kind at least once, plus random extras.
    mutating func batch() -> [Change] {
        var changes = (0..<Self.operationKinds).map { change(operation($0)) }
        changes += (0..<Self.valueKinds).map { change(.set(value($0), predecessors: dots())) }
        changes += (0..<Int.random(in: 0...12, using: &random)).map { _ in
            change(operation(Int.random(in: 0..<Self.operationKinds, using: &random)))
        }
        // Every content-carrying kind once more, its content erased (kept hash, placeholders).
        changes += [2, 3, 4, 5, 7].map { change(operation($0)).erasingContent() }
        changes.shuffle(using: &random)
        return changes
    }

    /// A realistic batch: one author typing, with small deltas (what the format is tuned for).
    mutating func typingBatch() -> [Change] {
        let author = pick(replicas)
        let entity = pick(entities)
        let space = pick(spaces)
        var counter: UInt64 = 1
        var wall: UInt64 = 1_700_000_000_000
        var changes: [Change] = []
        for _ in 0..<Int.random(in: 1...30, using: &random) {
            let text = text()
            let change = Change(
                id: Dot(author, counter), timestamp: HLCTimestamp(wallTime: wall), space: space, entity: entity, field: "body",
                operation: .insertText(originLeft: counter > 1 ? Dot(author, counter - 1) : nil, originRight: nil, text: text))
            counter += change.counterSpan
            wall += UInt64.random(in: 0...500, using: &random)
            changes.append(change)
        }
        return changes
    }
}

// MARK: - Hand-built batches

/// Assembles a batch byte by byte, so that tests can state exactly what the body holds.
private struct CraftedBatch {
    var magic = Array("DLGC".utf8)
    var version: UInt8 = 1
    var replicas: [UInt64] = [0xA1]
    var spaces = [[UInt8](repeating: 0x11, count: 16)]
    var entities = [[UInt8](repeating: 0x22, count: 16)]
    var strings = ["title"]
    /// When set, replaces the whole tables block's content.
    var rawTables: [UInt8]?
    var count: UInt64 = 1
    var heads = ByteWriter()
    var places = ByteWriter()
    var deps = ByteWriter()
    var ops = ByteWriter()
    var texts = ByteWriter()
    /// When set, replaces the change count and column blocks.
    var rawColumns: [UInt8]?

    /// A one-change batch whose head is (replica 0, counter 1, wall `wall`, logical 0, `tag`),
    /// in space 0, entity 0, field "title", without dependencies; the caller fills `ops`.
    static func single(tag: UInt8, wall: Int64 = 1_700_000_000_000) -> CraftedBatch {
        var batch = CraftedBatch()
        batch.heads.varint(0)
        batch.heads.signed(0)
        batch.heads.signed(wall)
        batch.heads.varint(0)
        batch.heads.byte(tag)
        batch.places.varint(0)
        batch.places.varint(0)
        batch.places.varint(0)
        batch.deps.varint(0)
        return batch
    }

    func tablesBytes() -> [UInt8] {
        if let rawTables { return rawTables }
        var tables = ByteWriter()
        tables.varint(replicas.count)
        for replica in replicas { tables.fixed64(replica) }
        tables.varint(spaces.count)
        for space in spaces { tables.raw(space) }
        tables.varint(entities.count)
        for entity in entities { tables.raw(entity) }
        tables.varint(strings.count)
        for string in strings { tables.block(Array(string.utf8)) }
        return tables.bytes
    }

    /// The batch with a correct CRC-32.
    var bytes: [UInt8] {
        var out = ByteWriter()
        out.raw(magic)
        out.byte(version)
        out.block(tablesBytes())
        if let rawColumns {
            out.raw(rawColumns)
        } else {
            out.varint(count)
            for column in [heads, places, deps, ops, texts] { out.block(column.bytes) }
        }
        return sealed(out.bytes)
    }
}

/// Appends the CRC-32 (IEEE, little-endian u32) of everything before it.
private func sealed(_ bytes: [UInt8]) -> [UInt8] {
    let crc = CRC32.checksum(bytes)
    return bytes + (0..<4).map { UInt8(truncatingIfNeeded: crc >> UInt32(8 * $0)) }
}

/// Replaces the CRC of an encoded batch with a correct one for its (altered) content.
private func resealed(_ batch: [UInt8]) -> [UInt8] { sealed(Array(batch.dropLast(4))) }

/// The UTF-8 of every string a change carries. `==` on `String` (and so on `Change`)
/// is canonical equivalence, which would hide a codec that swaps "e\u{301}" for "é".
private func utf8Strings(_ change: Change) -> [[UInt8]] {
    func value(_ value: FieldValue) -> [[UInt8]] { value.stringValue.map { [Array($0.utf8)] } ?? [] }
    var strings = [Array(change.field.utf8)]
    switch change.operation {
    case .create(let kind, _): strings.append(Array(kind.utf8))
    case .set(let v, _), .add(let v), .remove(let v, _), .insertItem(_, _, let v): strings += value(v)
    case .insertText(_, _, let text): strings.append(Array(text.utf8))
    case .erase(let erasure):
        if case .field(_, let field) = erasure.target { strings.append(Array(field.utf8)) }
    case .delete, .deleteText, .moveItem, .removeItem: break
    }
    return strings
}

/// Decodes, returning the error (or nil when decoding succeeded).
private func decodeError(_ bytes: [UInt8]) -> CodecError? {
    do {
        _ = try ChangeCodec.decode(bytes)
        return nil
    } catch {
        return error
    }
}

private func isMalformed(_ error: CodecError?) -> Bool {
    if case .malformed = error { true } else { false }
}

// MARK: - Tests

@Suite("ChangeCodec")
struct ChangeCodecTests {
    // MARK: Round trips

    @Test("random batches round-trip", arguments: 0..<300)
    func randomBatchesRoundTrip(seed: UInt64) throws {
        var generator = ChangeGenerator(seed: seed)
        let changes = generator.batch()
        let encoded = ChangeCodec.encode(changes)
        let decoded = try ChangeCodec.decode(encoded)
        #expect(decoded == changes, "seed \(seed)")
        if decoded != changes {
            for (index, (sent, received)) in zip(changes, decoded).enumerated() where sent != received {
                Issue.record("seed \(seed) change \(index): sent \(sent) received \(received)")
                break
            }
        }
        #expect(ChangeCodec.encode(decoded) == encoded, "seed \(seed): re-encoding is byte-identical")
        #expect(decoded.map(utf8Strings) == changes.map(utf8Strings), "seed \(seed): strings keep their exact scalars")
    }

    /// The string table interns through a `[String: Int]`, and Swift's `String` equality
    /// is canonical equivalence, so a later "e\u{301}" gets the index of an earlier "é".
    @Test
    func canonicallyEquivalentStringsKeepTheirScalars() throws {
        var generator = ChangeGenerator(seed: 1)
        let composed = generator.change(.set(.string("\u{C5}"), predecessors: []))  // Å, one scalar
        var decomposed = generator.change(.set(.string("A\u{30A}"), predecessors: []))  // A + combining ring
        decomposed.field = "e\u{301}"
        var first = composed
        first.field = "\u{E9}"
        let changes = [first, decomposed]
        let decoded = try ChangeCodec.decode(ChangeCodec.encode(changes))
        #expect(decoded == changes, "equal under canonical equivalence")
        #expect(decoded.map(utf8Strings) == changes.map(utf8Strings), "but the scalars must survive too")
        #expect(decoded.last?.field.unicodeScalars.count == 2)

        // Consequence: a receiver's canonical export differs from the sender's.
        let space = SpaceID(UUID(byteArray: [UInt8](repeating: 1, count: 16)))
        let context = EditContext(replica: ReplicaID(rawValue: 1)!, timestamp: HLCTimestamp(wallTime: 1))
        var sender = SpaceDocument(space: space)
        let sent = [
            sender.set("name", of: EntityID(UUID(byteArray: [UInt8](repeating: 2, count: 16))), to: .string("\u{C5}"), by: context),
            sender.set("name", of: EntityID(UUID(byteArray: [UInt8](repeating: 3, count: 16))), to: .string("A\u{30A}"), by: context),
        ]
        var receiver = SpaceDocument(space: space)
        try receiver.apply(try ChangeCodec.decode(ChangeCodec.encode(sent)))
        #expect(receiver.canonicalExportText().unicodeScalars.elementsEqual(sender.canonicalExportText().unicodeScalars))
    }

    @Test("typing batches round-trip", arguments: 0..<50)
    func typingBatchesRoundTrip(seed: UInt64) throws {
        var generator = ChangeGenerator(seed: seed)
        let changes = generator.typingBatch()
        #expect(try ChangeCodec.decode(ChangeCodec.encode(changes)) == changes, "seed \(seed)")
    }

    @Test("CRC-32: the standard check value, and every split and length agrees with the bytewise definition")
    func crc32() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        var random = SplitMix64(seed: 11)
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }
        func bytewise(_ bytes: some Sequence<UInt8>) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            }
            return crc ^ 0xFFFF_FFFF
        }
        for length in 0...bytes.count {
            let prefix = Array(bytes.prefix(length))
            #expect(CRC32.checksum(prefix) == bytewise(prefix))
            #expect(CRC32.checksum(prefix.lazy.map { $0 }) == bytewise(prefix))  // not contiguous: the bytewise path
            let split = length / 3
            var incremental = CRC32()
            incremental.update(prefix[..<split])
            prefix[split...].withUnsafeBytes { incremental.update($0) }
            #expect(incremental.value == bytewise(prefix))
        }
    }

    @Test func emptyBatchRoundTrips() throws {
        let encoded = ChangeCodec.encode([])
        #expect(try ChangeCodec.decode(encoded) == [])
        // magic, version 1, empty tables (4 zero counts), change count 0, five empty columns, CRC.
        #expect(Array(encoded.prefix(5)) == Array("DLGC".utf8) + [1])
        #expect(Array(encoded.dropFirst(5).dropLast(4)) == [4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(encoded == CraftedBatch(replicas: [], spaces: [], entities: [], strings: [], count: 0).bytes)
    }

    @Test func decodesAnyCollectionOfBytes() throws {
        var generator = ChangeGenerator(seed: 7)
        let changes = generator.batch()
        let encoded = ChangeCodec.encode(changes)
        #expect(try ChangeCodec.decode(Data(encoded)) == changes)
        let padded = [0xEE] + encoded + [0xEE]
        #expect(try ChangeCodec.decode(padded[1..<padded.count - 1]) == changes)
    }

    @Test func extremeValuesRoundTrip() throws {
        let replica = ReplicaID(rawValue: UInt64.max)!
        let other = ReplicaID(rawValue: 1)!
        let space = SpaceID(UUID(byteArray: [UInt8](repeating: 0xFF, count: 16)))
        let entity = EntityID(UUID(byteArray: [UInt8](repeating: 0, count: 16)))
        let changes = [
            // The last counter a one-counter change may take (the next expected counter is UInt64.max).
            Change(
                id: Dot(replica, UInt64.max - 1), timestamp: HLCTimestamp(wallTime: UInt64.max, logical: UInt16.max), space: space,
                entity: entity, field: "👩‍👩‍👧‍👦", dependencies: [Dot(other, UInt64.max), Dot(other, 1)],
                operation: .set(.int(Int64.min), predecessors: [Dot(replica, UInt64.max)])),
            // Counters restart low for another author; the clock goes back to zero.
            Change(
                id: Dot(other, 1), timestamp: .zero, space: space, entity: entity, field: "",
                operation: .insertText(originLeft: Dot(replica, UInt64.max), originRight: Dot(other, 1), text: "🇳🇿e\u{301}")),
            Change(
                id: Dot(other, 4), timestamp: HLCTimestamp(wallTime: 1), space: space, entity: entity, field: "",
                operation: .deleteText([try! DotRange(replica: replica, firstCounter: 1, length: UInt64.max - 1_000)])),
            Change(
                id: Dot(replica, 1), timestamp: HLCTimestamp(wallTime: UInt64.max), space: space, entity: entity, field: "n",
                operation: .set(.timestamp(Int64.max), predecessors: [])),
            Change(
                id: Dot(replica, 2), timestamp: HLCTimestamp(wallTime: 0), space: space, entity: entity, field: "n",
                operation: .set(.timestamp(Int64.min), predecessors: [])),
        ]
        #expect(try ChangeCodec.decode(ChangeCodec.encode(changes)) == changes)
    }

    @Test(
        "every operation round-trips alone",
        arguments: 0..<ChangeGenerator.operationKinds)
    func everyOperationAlone(kind: Int) throws {
        for seed: UInt64 in 0..<20 {
            var generator = ChangeGenerator(seed: seed &* 31 &+ UInt64(kind))
            let change = generator.change(generator.operation(kind))
            #expect(try ChangeCodec.decode(ChangeCodec.encode([change])) == [change], "kind \(kind) seed \(seed)")
        }
    }

    @Test("every value round-trips alone", arguments: 0..<ChangeGenerator.valueKinds)
    func everyValueAlone(kind: Int) throws {
        for seed: UInt64 in 0..<20 {
            var generator = ChangeGenerator(seed: seed &* 37 &+ UInt64(kind))
            let changes = [
                generator.change(.set(generator.value(kind), predecessors: [])),
                generator.change(.add(generator.value(kind))),
                generator.change(.remove(generator.value(kind), observed: generator.dots())),
                generator.change(.insertItem(originLeft: nil, originRight: nil, value: generator.value(kind))),
            ]
            #expect(try ChangeCodec.decode(ChangeCodec.encode(changes)) == changes, "kind \(kind) seed \(seed)")
        }
    }

    // MARK: Truncation and damage

    @Test("every truncation throws", arguments: 0..<6)
    func everyTruncationThrows(seed: UInt64) {
        var generator = ChangeGenerator(seed: 1_000 + seed)
        let encoded = ChangeCodec.encode(seed == 0 ? [] : Array(generator.batch().prefix(8)))
        for length in 0..<encoded.count {
            let error = decodeError(Array(encoded.prefix(length)))
            #expect(error != nil, "seed \(seed): a prefix of \(length) of \(encoded.count) bytes decoded")
            if length <= 4 { #expect(error == .truncated(section: "header"), "length \(length)") }
            if (5..<9).contains(length) { #expect(error == .truncated(section: "checksum"), "length \(length)") }
        }
    }

    @Test("a flipped byte in the body is a checksum mismatch", arguments: 0..<10)
    func flippedByteIsChecksumMismatch(seed: UInt64) {
        var generator = ChangeGenerator(seed: 2_000 + seed)
        let encoded = ChangeCodec.encode(generator.batch())
        var random = SplitMix64(seed: seed)
        for _ in 0..<100 {
            var garbled = encoded
            let index = Int.random(in: 5..<encoded.count, using: &random)  // body or CRC
            garbled[index] ^= UInt8.random(in: 1...255, using: &random)
            #expect(decodeError(garbled) == .checksumMismatch, "seed \(seed): byte \(index) flipped")
        }
    }

    @Test("random damage is always a CodecError", arguments: 0..<20)
    func randomDamageThrows(seed: UInt64) {
        var generator = ChangeGenerator(seed: 3_000 + seed)
        let encoded = ChangeCodec.encode(generator.batch())
        var random = SplitMix64(seed: seed)
        for attempt in 0..<100 {
            var garbled = encoded
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let index = Int.random(in: 0..<encoded.count, using: &random)
                garbled[index] ^= UInt8.random(in: 1...255, using: &random)
            }
            #expect(decodeError(garbled) != nil, "seed \(seed) attempt \(attempt): damaged bytes decoded")
        }
    }

    /// Damage that keeps a valid CRC (a buggy or hostile sender) reaches the body
    /// parser; it may decode to something else, but it must never trap.
    @Test("damage behind a valid checksum never traps", arguments: 0..<40)
    func damageBehindValidChecksum(seed: UInt64) {
        var generator = ChangeGenerator(seed: 4_000 + seed)
        let changes = seed.isMultiple(of: 2) ? generator.batch() : generator.typingBatch()
        let encoded = ChangeCodec.encode(changes)
        var random = SplitMix64(seed: seed)
        var failures = 0
        for _ in 0..<150 {
            var garbled = Array(encoded.dropLast(4))
            switch UInt8.random(in: 0..<3, using: &random) {
            case 0:
                let index = Int.random(in: 5..<garbled.count, using: &random)
                garbled[index] ^= UInt8.random(in: 1...255, using: &random)
            case 1:
                let index = Int.random(in: 5..<garbled.count, using: &random)
                garbled[index] = pick([0x00, 0x7F, 0x80, 0xFF], &random)
            default:
                let index = Int.random(in: 5...garbled.count, using: &random)
                if Bool.random(using: &random), index < garbled.count {
                    garbled.remove(at: index)
                } else {
                    garbled.insert(UInt8.random(in: 0...255, using: &random), at: index)
                }
            }
            if decodeError(sealed(garbled)) != nil { failures += 1 }
        }
        #expect(failures > 0, "seed \(seed): no damage was noticed at all")
    }

    // MARK: Header

    @Test func wrongMagicIsNotAChangeBatch() {
        let encoded = ChangeCodec.encode([])
        for index in 0..<4 {
            var wrong = encoded
            wrong[index] ^= 0x20
            #expect(decodeError(resealed(wrong)) == .notAChangeBatch)
        }
        #expect(decodeError(Array("{\"changes\": []}".utf8)) == .notAChangeBatch)
        #expect(decodeError([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]) == .notAChangeBatch, "gzip is not a batch")
        #expect(decodeError(Array("DLG".utf8)) == .truncated(section: "header"))
        #expect(decodeError(Array("DLX".utf8)) == .notAChangeBatch)
        #expect(decodeError([]) == .truncated(section: "header"))
    }

    @Test(arguments: [UInt8(0), 2, 3, 0x7F, 0xFF])
    func unsupportedVersions(version: UInt8) {
        var batch = CraftedBatch(replicas: [], spaces: [], entities: [], strings: [], count: 0)
        batch.version = version
        #expect(decodeError(batch.bytes) == .unsupportedVersion(version))
        var encoded = ChangeCodec.encode([])
        encoded[4] = version
        #expect(decodeError(resealed(encoded)) == .unsupportedVersion(version))
    }

    @Test func unsupportedVersionMessageSaysToUpdate() {
        #expect(CodecError.unsupportedVersion(2).description.contains("update Dialogue"))
    }

    // MARK: Crafted bodies

    @Test func craftedBatchDecodesAsExpected() throws {
        // Validates the hand-built helper against the real encoder.
        var batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.set.rawValue)
        batch.ops.byte(ChangeCodec.ValueTag.int.rawValue)
        batch.ops.signed(-5)
        batch.ops.varint(0)  // no predecessors
        let expected = Change(
            id: Dot(ReplicaID(rawValue: 0xA1)!, 1), timestamp: HLCTimestamp(wallTime: 1_700_000_000_000),
            space: SpaceID(UUID(byteArray: [UInt8](repeating: 0x11, count: 16))),
            entity: EntityID(UUID(byteArray: [UInt8](repeating: 0x22, count: 16))), field: "title",
            operation: .set(.int(-5), predecessors: []))
        #expect(try ChangeCodec.decode(batch.bytes) == [expected])
        #expect(batch.bytes == ChangeCodec.encode([expected]))
    }

    @Test(arguments: [UInt8(11), 12, 0x7F, 0x8B, 0xFF])
    func unknownOperationTag(tag: UInt8) {
        var batch = CraftedBatch.single(tag: tag)
        batch.ops.byte(0)
        #expect(decodeError(batch.bytes) == .unknownOperation(tag))
    }

    @Test func unknownValueTagIsMalformed() {
        var batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        batch.ops.byte(7)
        #expect(isMalformed(decodeError(batch.bytes)))
    }

    /// Places in a batch where a count or length is read; each test claims 2^60 there.
    enum HugeCount: CaseIterable, Sendable {
        case changeCount, replicaCount, spaceCount, entityCount, stringCount, stringLength, tablesLength, headsLength, textsLength
        case dependencyCount, predecessorCount, deletionRangeCount, textLength, observedCount
    }

    @Test("a count claiming 2^60 items is refused without allocating", arguments: HugeCount.allCases)
    func hugeCounts(place: HugeCount) {
        let huge: UInt64 = 1 << 60
        var batch: CraftedBatch
        switch place {
        case .changeCount:
            batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
            batch.ops.byte(0)
            batch.count = huge
        case .replicaCount, .spaceCount, .entityCount, .stringCount, .stringLength:
            batch = CraftedBatch(count: 0)
            var tables = ByteWriter()
            tables.varint(place == .replicaCount ? huge : 0)
            tables.varint(place == .spaceCount ? huge : 0)
            tables.varint(place == .entityCount ? huge : 0)
            tables.varint(place == .stringCount ? huge : (place == .stringLength ? 1 : 0))
            if place == .stringLength { tables.varint(huge) }
            tables.raw([UInt8](repeating: 0x41, count: 64))
            batch.rawTables = tables.bytes
        case .tablesLength:
            batch = CraftedBatch(count: 0)
            var out = ByteWriter()
            out.raw(Array("DLGC".utf8))
            out.byte(1)
            out.varint(huge)
            out.raw([UInt8](repeating: 0, count: 32))
            #expect(decodeError(sealed(out.bytes)) != nil)
            return
        case .headsLength, .textsLength:
            batch = CraftedBatch(count: 0)
            var columns = ByteWriter()
            columns.varint(0)
            if place == .headsLength {
                columns.varint(huge)
            } else {
                for _ in 0..<4 { columns.varint(0) }
                columns.varint(huge)
            }
            columns.raw([UInt8](repeating: 0, count: 16))
            batch.rawColumns = columns.bytes
        case .dependencyCount:
            batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
            batch.ops.byte(0)
            batch.deps = ByteWriter()
            batch.deps.varint(huge)
            batch.deps.raw([0, 1, 0, 2])
        case .predecessorCount:
            batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.set.rawValue)
            batch.ops.byte(0)
            batch.ops.varint(huge)
            batch.ops.raw([0, 1, 0, 2])
        case .observedCount:
            batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.delete.rawValue)
            batch.ops.varint(huge)
            batch.ops.raw([0, 1, 0, 2])
        case .deletionRangeCount:
            batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.deleteText.rawValue)
            batch.ops.varint(huge)
            batch.ops.raw([0, 0, 1, 0, 0, 1])
        case .textLength:
            batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.insertText.rawValue)
            batch.ops.varint(0)
            batch.ops.varint(0)
            batch.ops.varint(huge)
            batch.texts.raw(Array("abc".utf8))
        }
        let error = decodeError(batch.bytes)
        #expect(error != nil, "\(place)")
        #expect(isMalformed(error) || error == .truncated(section: "tables"), "\(place): \(String(describing: error))")
    }

    @Test func maximalVarintCountIsRefused() {
        var batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        batch.ops.byte(0)
        batch.count = UInt64.max
        #expect(isMalformed(decodeError(batch.bytes)))
    }

    @Test func overlongVarintIsMalformed() {
        var batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        batch.ops.byte(ChangeCodec.ValueTag.int.rawValue)
        batch.ops.raw([UInt8](repeating: 0xFF, count: 10) + [0x01])  // 11 bytes
        #expect(isMalformed(decodeError(batch.bytes)))
        var overflowing = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        overflowing.ops.byte(ChangeCodec.ValueTag.int.rawValue)
        overflowing.ops.raw([UInt8](repeating: 0xFF, count: 9) + [0x02])  // 10th byte carries bit 64
        #expect(isMalformed(decodeError(overflowing.bytes)))
    }

    @Test func indexesOutOfTheirTablesAreMalformed() {
        var replicaIndex = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        replicaIndex.heads = ByteWriter()
        replicaIndex.heads.raw([1, 0, 0, 0, ChangeCodec.OperationTag.add.rawValue])
        replicaIndex.ops.byte(0)
        #expect(isMalformed(decodeError(replicaIndex.bytes)))

        for place in 0..<3 {
            var batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
            batch.places = ByteWriter()
            batch.places.raw((0..<3).map { $0 == place ? 1 : 0 })
            batch.ops.byte(0)
            #expect(isMalformed(decodeError(batch.bytes)), "place column \(place)")
        }

        var stringValue = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        stringValue.ops.raw([ChangeCodec.ValueTag.string.rawValue, 9])
        #expect(isMalformed(decodeError(stringValue.bytes)))

        var origin = CraftedBatch.single(tag: ChangeCodec.OperationTag.removeItem.rawValue)
        origin.ops.raw([2, 0])  // replica index + 1 == 2, but only one replica
        #expect(isMalformed(decodeError(origin.bytes)))

        var emptyTables = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        emptyTables.replicas = []
        emptyTables.ops.byte(0)
        #expect(isMalformed(decodeError(emptyTables.bytes)))
    }

    @Test func reservedAndZeroValuesAreMalformed() {
        var zeroReplica = CraftedBatch(count: 0)
        zeroReplica.replicas = [0]
        #expect(isMalformed(decodeError(zeroReplica.bytes)))

        var zeroCounter = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        zeroCounter.heads = ByteWriter()
        zeroCounter.heads.varint(0)
        zeroCounter.heads.signed(-1)  // expected 1, so counter 0
        zeroCounter.heads.raw([0, 0, ChangeCodec.OperationTag.add.rawValue])
        zeroCounter.ops.byte(0)
        #expect(isMalformed(decodeError(zeroCounter.bytes)))

        var zeroDependency = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        zeroDependency.deps = ByteWriter()
        zeroDependency.deps.raw([1, 0, 0])
        zeroDependency.ops.byte(0)
        #expect(isMalformed(decodeError(zeroDependency.bytes)))

        var logicalOverflow = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        logicalOverflow.heads = ByteWriter()
        logicalOverflow.heads.raw([0, 0, 0])
        logicalOverflow.heads.varint(UInt64(UInt16.max) + 1)
        logicalOverflow.heads.byte(ChangeCodec.OperationTag.add.rawValue)
        logicalOverflow.ops.byte(0)
        #expect(isMalformed(decodeError(logicalOverflow.bytes)))

        var emptyText = CraftedBatch.single(tag: ChangeCodec.OperationTag.insertText.rawValue)
        emptyText.ops.raw([0, 0, 0])
        #expect(isMalformed(decodeError(emptyText.bytes)), "an insertion of no text occupies no counters")

        var noRanges = CraftedBatch.single(tag: ChangeCodec.OperationTag.deleteText.rawValue)
        noRanges.ops.varint(0)
        #expect(isMalformed(decodeError(noRanges.bytes)))

        var emptyRange = CraftedBatch.single(tag: ChangeCodec.OperationTag.deleteText.rawValue)
        emptyRange.ops.raw([1, 0, 0, 0])  // one range, replica 0, first = own, length 0
        #expect(isMalformed(decodeError(emptyRange.bytes)))

        var moveWithoutElement = CraftedBatch.single(tag: ChangeCodec.OperationTag.moveItem.rawValue)
        moveWithoutElement.ops.raw([0, 0, 0, 0])
        #expect(isMalformed(decodeError(moveWithoutElement.bytes)))
    }

    @Test func invalidUTF8IsMalformed() {
        var table = CraftedBatch(count: 0)
        table.rawTables = [0, 0, 0, 1, 2, 0xC3, 0x28]
        #expect(isMalformed(decodeError(table.bytes)))

        var text = CraftedBatch.single(tag: ChangeCodec.OperationTag.insertText.rawValue)
        text.ops.raw([0, 0, 2])
        text.texts.raw([0xED, 0xA0])  // a lone surrogate's prefix
        #expect(isMalformed(decodeError(text.bytes)))
    }

    @Test func trailingBytesAreMalformed() {
        var column = CraftedBatch.single(tag: ChangeCodec.OperationTag.add.rawValue)
        column.ops.raw([0, 0])
        #expect(isMalformed(decodeError(column.bytes)))

        var tables = CraftedBatch(count: 0)
        tables.rawTables = CraftedBatch().tablesBytes() + [0]
        #expect(isMalformed(decodeError(tables.bytes)))
    }

    @Test func counterRangeOverflowIsMalformed() {
        // A change whose counters would pass UInt64.max.
        var batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.insertText.rawValue)
        batch.heads = ByteWriter()
        batch.heads.varint(0)
        batch.heads.signed(Int64(bitPattern: UInt64.max - 1))  // counter = 1 + (max - 1) = max
        batch.heads.raw([0, 0, ChangeCodec.OperationTag.insertText.rawValue])
        batch.ops.raw([0, 0, 2])
        batch.texts.raw(Array("ab".utf8))
        #expect(isMalformed(decodeError(batch.bytes)))

        var range = CraftedBatch.single(tag: ChangeCodec.OperationTag.deleteText.rawValue)
        range.ops.varint(1)
        range.ops.varint(0)
        range.ops.signed(Int64(bitPattern: UInt64.max - 2))  // first = max - 1
        range.ops.varint(2)
        #expect(isMalformed(decodeError(range.bytes)))
    }

    /// Each deletion range is valid alone, but their lengths sum past UInt64.max.
    /// Regression for a crash: `Operation.counterSpan` sums the lengths with a trapping `+`
    /// while `BatchDecoder.decodeAll` builds the `Change`, before its overflow guard runs.
    @Test
    func deletionRangesWhoseLengthsOverflowAreMalformed() {
        var batch = CraftedBatch.single(tag: ChangeCodec.OperationTag.deleteText.rawValue)
        batch.ops.varint(2)
        for _ in 0..<2 {
            batch.ops.varint(0)  // replica 0
            batch.ops.signed(0)  // first = own counter = 1
            batch.ops.varint(UInt64(1) << 63)
        }
        #expect(isMalformed(decodeError(batch.bytes)))
    }
}

private func pick<T>(_ values: [T], _ random: inout SplitMix64) -> T { values.randomElement(using: &random)! }
