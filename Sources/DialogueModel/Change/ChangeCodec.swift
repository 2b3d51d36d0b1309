import Foundation

/// Why bytes could not be decoded into changes. Decoding never traps.
public enum CodecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes do not start with the change-batch magic.
    case notAChangeBatch
    /// Written by a newer format version that this build cannot read.
    case unsupportedVersion(UInt8)
    /// The bytes end early.
    case truncated(section: String)
    /// The checksum does not match: the bytes were damaged.
    case checksumMismatch
    /// Structurally invalid content.
    case malformed(section: String, reason: String)
    /// An operation kind this version does not know and so cannot apply safely.
    case unknownOperation(UInt8)

    public var description: String {
        switch self {
        case .notAChangeBatch: "not a Dialogue change batch (bad magic bytes)"
        case .unsupportedVersion(let version):
            "change batch format version \(version) is newer than this build understands (\(ChangeCodec.formatVersion)); update Dialogue"
        case .truncated(let section): "change batch is truncated (in \(section))"
        case .checksumMismatch: "change batch checksum mismatch: the data was damaged in transit or storage"
        case .malformed(let section, let reason): "change batch is malformed (in \(section)): \(reason)"
        case .unknownOperation(let tag): "change batch holds operation kind \(tag), unknown to this version; update Dialogue"
        }
    }
}

/// The binary encoding of a batch of changes: version 1.
///
/// Binary rather than JSON because a change log is mostly small integers (counters,
/// clock deltas, table indexes) and typed text: on the `seph-blog1` trace this format
/// is several times smaller than JSON before gzip and decodes without building a
/// tree of objects (figures in `docs/PERFORMANCE.md`). The HTTP API carries these
/// batches base64'd inside JSON, so plain clients still speak it.
///
/// Layout (all integers LEB128 varints unless noted; "zz" = zig-zag signed):
/// ```
/// magic "DLGC" · version u8 = 1 · body · CRC-32 of magic+version+body (u32 LE)
/// body = tables · change count · column blocks
/// tables: replicas (count, u64 LE each) · spaces (count, 16 bytes each)
///       · entities (count, 16 bytes each) · strings (count, (length, UTF-8) each)
/// columns, each a length-prefixed block, one entry per change:
///   heads:  replica index · counter (zz delta from that replica's previous end + 1)
///           · wall time (zz delta from previous change) · logical · operation tag
///   places: space index · entity index · field string index
///   deps:   count · (replica index, counter)…
///   ops:    per operation kind (origins as replica index + 1 or 0 for none, then the
///           counter as zz delta from the change's own counter; values tagged)
///   texts:  UTF-8 of inserted text, concatenated (lengths in ops)
/// erase (tag 10): target (0 entity index · 1 entity index, field string index · 2 member
///   16 bytes, count, replica index each) · approval (0, or 1 then space 16 bytes,
///   replica index, target as before, issued-at zz, signer 32 bytes, signature 64 bytes)
/// a change whose content was erased: its tag or'ed with 0x80, its ops entry led by the
///   kept 32-byte content hash, a text insertion's length counting erased characters
///   that the texts column does not hold
/// ```
/// Grouping alike values into columns is what lets gzip find the patterns (as in
/// Automerge's columnar format).
public enum ChangeCodec {
    /// The format version this build writes; it reads this version and every older one.
    public static let formatVersion: UInt8 = 1
    static let magic: [UInt8] = Array("DLGC".utf8)

    enum OperationTag: UInt8 {
        case create = 0, delete, set, add, remove, insertText, deleteText, insertItem, moveItem, removeItem, erase
    }

    /// Or'ed into an operation tag: the change's content was erased; its kept content hash
    /// (32 bytes) leads its entry in the operations column, and a stripped text insertion
    /// has only its length there (its characters are ``Change/erasedScalar``, not stored).
    static let erasedFlag: UInt8 = 0x80

    enum ValueTag: UInt8 {
        case null = 0, falseValue, trueValue, int, string, timestamp, reference
    }

    /// Encodes changes (in the order given, which should be a causal order).
    public static func encode(_ changes: [Change]) -> [UInt8] {
        var encoder = BatchEncoder()
        for index in changes.indices { encoder.add(changes[index]) }  // by index: no copy of each change
        var out = ByteWriter()
        out.raw(magic)
        out.byte(formatVersion)
        encoder.write(to: &out)
        let crc = CRC32.checksum(out.bytes)
        for shift in stride(from: 0, to: 32, by: 8) { out.byte(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        return out.bytes
    }

    /// Decodes a batch, or throws a ``CodecError`` naming what is wrong.
    public static func decode(_ input: some Collection<UInt8>) throws(CodecError) -> [Change] {
        try decode(Array(input))
    }

    /// Decodes a batch held in `Data` (a database blob, a file, a request body).
    public static func decode(_ data: Data) throws(CodecError) -> [Change] {
        try decode([UInt8](data))
    }

    /// Decodes a batch, or throws a ``CodecError`` naming what is wrong.
    public static func decode(_ bytes: [UInt8]) throws(CodecError) -> [Change] {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw bytes.count < magic.count && magic.starts(with: bytes) ? .truncated(section: "header") : .notAChangeBatch
        }
        guard bytes.count > magic.count else { throw .truncated(section: "header") }
        let version = bytes[magic.count]
        guard version >= 1, version <= formatVersion else { throw .unsupportedVersion(version) }
        guard bytes.count >= magic.count + 1 + 4 else { throw .truncated(section: "checksum") }
        let bodyEnd = bytes.count - 4
        var stored: UInt32 = 0
        for index in 0..<4 { stored |= UInt32(bytes[bodyEnd + index]) << UInt32(8 * index) }
        guard CRC32.checksum(bytes[0..<bodyEnd]) == stored else { throw .checksumMismatch }
        var decoder = try BatchDecoder(bytes, body: (magic.count + 1)..<bodyEnd)
        return try decoder.decodeAll()
    }
}

/// A table of distinct identifiers, each known by its position.
private struct InternTable<ID: Hashable> {
    private(set) var values: [ID] = []
    private var positions: [ID: Int] = [:]
    /// The last identifier interned: a batch is almost always one space, and one author's
    /// edits to one entity repeat theirs change after change; comparing beats hashing.
    private var last: (id: ID, index: Int)?

    /// The identifier's position, and whether it was added just now.
    mutating func intern(_ id: ID) -> (index: Int, added: Bool) {
        if let last, last.id == id { return (last.index, false) }
        var added = false
        let index: Int
        if let known = positions[id] {
            index = known
        } else {
            values.append(id)
            index = values.count - 1
            positions[id] = index
            added = true
        }
        last = (id, index)
        return (index, added)
    }
}

/// Interns identifiers into tables and fills the columns.
private struct BatchEncoder {
    var replicas = InternTable<ReplicaID>()
    var spaces = InternTable<SpaceID>()
    var entities = InternTable<EntityID>()
    var strings: [String] = []
    /// Recently interned strings by a cheap hash of their bytes, names (fields, kinds)
    /// apart from values so that a stream of one-off values never pushes the names out.
    /// Names and vocabulary terms repeat; values typed by people rarely do, and hashing
    /// each of them into a dictionary cost more than the rest of the encoding. A
    /// collision only stores a string twice, which the format allows.
    var recentNames = [Int32](repeating: -1, count: 64)
    var names: [Int32] = []
    var recentValues = [Int32](repeating: -1, count: 64)
    /// Per interned replica (same index): the counter its next change is expected at.
    var nextCounter: [UInt64] = []
    var previousWall: UInt64 = 0
    var count = 0
    var heads = ByteWriter()
    var places = ByteWriter()
    var deps = ByteWriter()
    var ops = ByteWriter()
    var texts = ByteWriter()

    mutating func intern(_ replica: ReplicaID) -> Int {
        let (index, added) = replicas.intern(replica)
        if added { nextCounter.append(1) }
        return index
    }

    mutating func intern(_ entity: EntityID) -> Int { entities.intern(entity).index }

    /// Names (fields, kinds) are few in a batch: the first sixteen are found by a scan,
    /// so they never collide in the hashed slots.
    mutating func intern(name string: String) -> Int {
        for index in names where sameUTF8(strings[Int(index)], string) { return Int(index) }
        guard names.count < 16 else { return Self.intern(string, in: &strings, recent: &recentNames) }
        strings.append(string)
        names.append(Int32(strings.count - 1))
        return strings.count - 1
    }

    mutating func intern(value string: String) -> Int { Self.intern(string, in: &strings, recent: &recentValues) }

    static func intern(_ string: String, in strings: inout [String], recent: inout [Int32]) -> Int {
        let slot = slot(of: string)
        let candidate = Int(recent[slot])
        if candidate >= 0, sameUTF8(strings[candidate], string) { return candidate }
        strings.append(string)
        recent[slot] = Int32(strings.count - 1)
        return strings.count - 1
    }

    /// A slot of the recent tables from the length and the first and last eight bytes
    /// (where names and numbered values differ), mixed by one multiplication.
    static func slot(of string: String) -> Int {
        let utf8 = string.utf8
        let mixed =
            utf8.withContiguousStorageIfAvailable { bytes -> UInt64 in
                guard let base = bytes.baseAddress else { return 0 }
                let count = bytes.count
                var head: UInt64 = 0
                var tail: UInt64 = 0
                withUnsafeMutableBytes(of: &head) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: min(count, 8))) }
                if count > 8 {
                    let tailCount = min(count - 8, 8)
                    withUnsafeMutableBytes(of: &tail) {
                        $0.copyMemory(from: UnsafeRawBufferPointer(start: base + count - tailCount, count: tailCount))
                    }
                }
                return (head ^ tail &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)) &* 0xFF51_AFD7_ED55_8CCD
            }
            ?? {
                var hash: UInt64 = UInt64(utf8.count)  // a bridged string: not contiguous
                for byte in utf8.prefix(16) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
                return hash &* 0xFF51_AFD7_ED55_8CCD
            }()
        return Int(truncatingIfNeeded: mixed >> 58)
    }

    mutating func add(_ change: Change) {
        count += 1
        let replica = change.replica
        let replicaIndex = intern(replica)
        heads.varint(replicaIndex)
        heads.signed(Int64(bitPattern: change.id.counter &- nextCounter[replicaIndex]))
        nextCounter[replicaIndex] = change.id.counter &+ change.counterSpan
        heads.signed(Int64(bitPattern: change.timestamp.wallTime &- previousWall))
        previousWall = change.timestamp.wallTime
        heads.varint(UInt64(change.timestamp.logical))
        places.varint(spaces.intern(change.space).index)
        places.varint(intern(change.entity))
        places.varint(intern(name: change.field))
        deps.varint(change.dependencies.count)
        for dot in change.dependencies {
            let index = intern(dot.replica)
            deps.varint(index)
            deps.varint(dot.counter)
        }
        let own = change.id.counter
        let flag: UInt8
        if let erased = change.erasedContentHash {
            flag = ChangeCodec.erasedFlag
            ops.raw(erased)
        } else {
            flag = 0
        }
        switch change.operation {
        case .create(let kind, let predecessors):
            heads.byte(ChangeCodec.OperationTag.create.rawValue)
            ops.varint(intern(name: kind))
            dotList(predecessors)
        case .delete(let observed):
            heads.byte(ChangeCodec.OperationTag.delete.rawValue)
            dotList(observed.lastDots)
        case .set(let value, let predecessors):
            heads.byte(ChangeCodec.OperationTag.set.rawValue | flag)
            self.value(value)
            dotList(predecessors)
        case .add(let value):
            heads.byte(ChangeCodec.OperationTag.add.rawValue | flag)
            self.value(value)
        case .remove(let value, let observed):
            heads.byte(ChangeCodec.OperationTag.remove.rawValue | flag)
            self.value(value)
            dotList(observed)
        case .insertText(let originLeft, let originRight, let text):
            heads.byte(ChangeCodec.OperationTag.insertText.rawValue | flag)
            origin(originLeft, own: own)
            origin(originRight, own: own)
            ops.varint(text.utf8.count)
            if flag == 0 { texts.raw(text.utf8) }  // erased characters are one byte each
        case .deleteText(let ranges):
            heads.byte(ChangeCodec.OperationTag.deleteText.rawValue)
            ops.varint(ranges.count)
            for range in ranges {
                ops.varint(intern(range.replica))
                ops.signed(Int64(bitPattern: range.firstCounter &- own))
                ops.varint(range.length)
            }
        case .insertItem(let originLeft, let originRight, let value):
            heads.byte(ChangeCodec.OperationTag.insertItem.rawValue | flag)
            origin(originLeft, own: own)
            origin(originRight, own: own)
            self.value(value)
        case .moveItem(let element, let originLeft, let originRight, let predecessors):
            heads.byte(ChangeCodec.OperationTag.moveItem.rawValue)
            origin(element, own: own)
            origin(originLeft, own: own)
            origin(originRight, own: own)
            dotList(predecessors)
        case .removeItem(let element):
            heads.byte(ChangeCodec.OperationTag.removeItem.rawValue)
            origin(element, own: own)
        case .erase(let erasure):
            heads.byte(ChangeCodec.OperationTag.erase.rawValue)
            target(erasure.target)
            if let approval = erasure.approval {
                ops.byte(1)
                ops.raw(approval.space.uuid.bytes)
                ops.varint(intern(approval.replica))
                target(approval.target)
                ops.signed(approval.issuedAt)
                ops.raw(approval.signer.rawRepresentation)
                ops.raw(approval.signature)
            } else {
                ops.byte(0)
            }
        }
    }

    mutating func target(_ target: Erasure.Target) {
        switch target {
        case .entity(let entity):
            ops.byte(0)
            ops.varint(intern(entity))
        case .field(let entity, let field):
            ops.byte(1)
            ops.varint(intern(entity))
            ops.varint(intern(name: field))
        case .contributions(let member, let replicas):
            ops.byte(2)
            ops.raw(member.bytes)
            ops.varint(replicas.count)
            for replica in replicas { ops.varint(intern(replica)) }
        }
    }

    mutating func origin(_ dot: Dot?, own: UInt64) {
        guard let dot else {
            ops.varint(0)
            return
        }
        ops.varint(intern(dot.replica) + 1)
        ops.signed(Int64(bitPattern: dot.counter &- own))
    }

    mutating func dotList(_ dots: [Dot]) {
        ops.varint(dots.count)
        for dot in dots {
            let index = intern(dot.replica)
            ops.varint(index)
            ops.varint(dot.counter)
        }
    }

    mutating func value(_ value: FieldValue) {
        switch value {
        case .null: ops.byte(ChangeCodec.ValueTag.null.rawValue)
        case .bool(let flag): ops.byte(flag ? ChangeCodec.ValueTag.trueValue.rawValue : ChangeCodec.ValueTag.falseValue.rawValue)
        case .int(let number):
            ops.byte(ChangeCodec.ValueTag.int.rawValue)
            ops.signed(number)
        case .string(let string):
            ops.byte(ChangeCodec.ValueTag.string.rawValue)
            ops.varint(intern(value: string))
        case .timestamp(let millis):
            ops.byte(ChangeCodec.ValueTag.timestamp.rawValue)
            ops.signed(millis)
        case .reference(let entity):
            ops.byte(ChangeCodec.ValueTag.reference.rawValue)
            ops.varint(intern(entity))
        }
    }

    func write(to out: inout ByteWriter) {
        var tables = ByteWriter()
        tables.varint(replicas.values.count)
        for replica in replicas.values { tables.fixed64(replica.rawValue) }
        tables.varint(spaces.values.count)
        for space in spaces.values { tables.raw(space.uuid.bytes) }
        tables.varint(entities.values.count)
        for entity in entities.values { tables.raw(entity.uuid.bytes) }
        tables.varint(strings.count)
        for string in strings {
            tables.varint(string.utf8.count)
            tables.raw(string.utf8)
        }
        out.block(tables.bytes)
        out.varint(count)
        for column in [heads, places, deps, ops, texts] { out.block(column.bytes) }
    }
}
