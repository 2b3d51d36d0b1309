/// The frozen encoding of an ``Operation`` written for hashing (docs/TRUST.md, "Hash
/// chains"): independent of ``ChangeCodec`` so that changing the wire or storage format
/// never changes a change's digest. Pinned by test vectors (`ChainHashingTests`).
///
/// ```
/// kind byte: 0 create · 1 delete · 2 set · 3 add · 4 remove · 5 insertText · 6 deleteText
///            7 insertItem · 8 moveItem · 9 removeItem · 10 erase
/// then its fields in declaration order:
///   dot            replica (8 bytes LE) · counter (LEB128)
///   optional dot   0, or 1 then the dot
///   list of dots   count, then the dots as listed
///   version vector count, then (replica, counter) ascending by replica
///   dot ranges     count, then (replica · first counter · length) as listed
///   value          0 null · 1 bool (then 0/1) · 2 int (zig-zag) · 3 string · 4 timestamp (zig-zag) · 5 reference (16 bytes)
///   string, text   LEB128 byte count, then UTF-8
///   erase          target (``Erasure/Target/canonicalBytes``) · approval: 0, or 1 then
///                  its canonical bytes and its 64-byte signature
/// ```
extension Operation {
    /// The operation's canonical bytes (what ``Change/contentHash`` hashes after its tag).
    public var canonicalBytes: [UInt8] {
        var writer = ByteWriter()
        writeCanonical(to: &writer)
        return writer.bytes
    }

    func writeCanonical(to writer: inout ByteWriter) {
        switch self {
        case .create(let kind, let predecessors):
            writer.byte(0)
            writer.string(kind)
            writer.dots(predecessors)
        case .delete(let observed):
            writer.byte(1)
            writer.varint(observed.lastDots.count)
            for dot in observed.lastDots { writer.dot(dot) }
        case .set(let value, let predecessors):
            writer.byte(2)
            writer.value(value)
            writer.dots(predecessors)
        case .add(let value):
            writer.byte(3)
            writer.value(value)
        case .remove(let value, let observed):
            writer.byte(4)
            writer.value(value)
            writer.dots(observed)
        case .insertText(let originLeft, let originRight, let text):
            writer.byte(5)
            writer.optionalDot(originLeft)
            writer.optionalDot(originRight)
            writer.string(text)
        case .deleteText(let ranges):
            writer.byte(6)
            writer.varint(ranges.count)
            for range in ranges {
                writer.replica(range.replica)
                writer.varint(range.firstCounter)
                writer.varint(range.length)
            }
        case .insertItem(let originLeft, let originRight, let value):
            writer.byte(7)
            writer.optionalDot(originLeft)
            writer.optionalDot(originRight)
            writer.value(value)
        case .moveItem(let element, let originLeft, let originRight, let predecessors):
            writer.byte(8)
            writer.dot(element)
            writer.optionalDot(originLeft)
            writer.optionalDot(originRight)
            writer.dots(predecessors)
        case .removeItem(let element):
            writer.byte(9)
            writer.dot(element)
        case .erase(let erasure):
            writer.byte(10)
            erasure.target.writeCanonical(to: &writer)
            if let approval = erasure.approval {
                writer.byte(1)
                writer.raw(approval.canonicalBytes)
                writer.raw(approval.signature)
            } else {
                writer.byte(0)
            }
        }
    }
}

extension ByteWriter {
    mutating func dot(_ dot: Dot) {
        replica(dot.replica)
        varint(dot.counter)
    }

    mutating func optionalDot(_ dot: Dot?) {
        if let dot {
            byte(1)
            self.dot(dot)
        } else {
            byte(0)
        }
    }

    mutating func dots(_ dots: [Dot]) {
        varint(dots.count)
        for dot in dots { self.dot(dot) }
    }

    mutating func value(_ value: FieldValue) {
        switch value {
        case .null: byte(0)
        case .bool(let flag):
            byte(1)
            byte(flag ? 1 : 0)
        case .int(let number):
            byte(2)
            signed(number)
        case .string(let text):
            byte(3)
            string(text)
        case .timestamp(let milliseconds):
            byte(4)
            signed(milliseconds)
        case .reference(let entity):
            byte(5)
            uuid(entity.uuid)
        }
    }
}
