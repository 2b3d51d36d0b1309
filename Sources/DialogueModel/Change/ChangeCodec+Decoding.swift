import Foundation

/// Reads a version-1 batch body: tables first, then one entry per change from each column.
struct BatchDecoder {
    let bytes: [UInt8]
    var replicas: [ReplicaID] = []
    var spaces: [SpaceID] = []
    var entities: [EntityID] = []
    var strings: [String] = []
    var count = 0
    /// Erased characters still allowed in this batch: a stripped insertion stores only its
    /// length, so lengths are capped as a whole (32 Mi, the largest body anyone accepts),
    /// or a small hostile batch could claim gigabytes of placeholders.
    var erasedScalarsLeft = 1 << 25
    var heads: ByteReader
    var places: ByteReader
    var deps: ByteReader
    var ops: ByteReader
    var texts: ByteReader

    init(_ bytes: [UInt8], body: Range<Int>) throws(CodecError) {
        self.bytes = bytes
        var reader = ByteReader(bytes, range: body, section: "body")
        var tables = ByteReader(bytes, range: try reader.blockRange("tables"), section: "tables")
        count = try reader.count(atMost: reader.remaining, "change count")
        heads = ByteReader(bytes, range: try reader.blockRange("heads"), section: "heads")
        places = ByteReader(bytes, range: try reader.blockRange("places"), section: "places")
        deps = ByteReader(bytes, range: try reader.blockRange("dependencies"), section: "dependencies")
        ops = ByteReader(bytes, range: try reader.blockRange("operations"), section: "operations")
        texts = ByteReader(bytes, range: try reader.blockRange("texts"), section: "texts")
        guard reader.isAtEnd else { throw .malformed(section: "body", reason: "unexpected bytes after the columns") }

        for _ in 0..<(try tables.count(atMost: tables.remaining / 8, "replica count")) {
            guard let replica = ReplicaID(rawValue: try tables.fixed64()) else {
                throw .malformed(section: "tables", reason: "replica ID zero is reserved")
            }
            replicas.append(replica)
        }
        for _ in 0..<(try tables.count(atMost: tables.remaining / 16, "space count")) {
            spaces.append(SpaceID(UUID(byteArray: Array(try tables.raw(16)))))
        }
        for _ in 0..<(try tables.count(atMost: tables.remaining / 16, "entity count")) {
            entities.append(EntityID(UUID(byteArray: Array(try tables.raw(16)))))
        }
        for _ in 0..<(try tables.count(atMost: tables.remaining, "string count")) {
            let length = try tables.count(atMost: tables.remaining, "string length")
            strings.append(try Self.utf8(try tables.raw(length), section: "tables"))
        }
        guard tables.isAtEnd else { throw .malformed(section: "tables", reason: "unexpected bytes after the tables") }
    }

    static func utf8(_ slice: ArraySlice<UInt8>, section: String) throws(CodecError) -> String {
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw .malformed(section: section, reason: "invalid UTF-8")
        }
        return string
    }

    mutating func decodeAll() throws(CodecError) -> [Change] {
        var changes: [Change] = []
        changes.reserveCapacity(count)
        // Per replica of the table (same index): the counter its next change is expected at.
        var nextCounter = [UInt64](repeating: 1, count: replicas.count)
        var previousWall: UInt64 = 0
        for _ in 0..<count {
            let replicaIndex = try heads.count(atMost: replicas.count - 1, "replica index")
            let replica = replicas[replicaIndex]
            let counter = nextCounter[replicaIndex] &+ UInt64(bitPattern: try heads.signed())
            guard counter >= 1 else { throw .malformed(section: "heads", reason: "counter zero") }
            let wall = previousWall &+ UInt64(bitPattern: try heads.signed())
            previousWall = wall
            let logicalRaw = try heads.varint()
            guard logicalRaw <= UInt64(UInt16.max) else { throw .malformed(section: "heads", reason: "logical clock overflow") }
            let tagByte = try heads.byte()
            let erased = tagByte & ChangeCodec.erasedFlag != 0
            guard let tag = ChangeCodec.OperationTag(rawValue: tagByte & ~ChangeCodec.erasedFlag) else { throw .unknownOperation(tagByte) }
            let erasedHash = erased ? Array(try ops.raw(32)) : nil
            let space = spaces[try places.count(atMost: spaces.count - 1, "space index")]
            let entity = entities[try places.count(atMost: entities.count - 1, "entity index")]
            let field = strings[try places.count(atMost: strings.count - 1, "field index")]
            var dependencies: [Dot] = []
            for _ in 0..<(try deps.count(atMost: deps.remaining, "dependency count")) {
                dependencies.append(try Self.dot(from: &deps, replicas: replicas))
            }
            let operation = try self.operation(tag, own: counter, erased: erased)
            var change = Change(
                id: Dot(replica, counter), timestamp: HLCTimestamp(wallTime: wall, logical: UInt16(logicalRaw)), space: space,
                entity: entity, field: field, dependencies: dependencies, operation: operation)
            if let erasedHash {
                change.markContentErased(hash: erasedHash)
                if let problem = change.erasureShapeProblem { throw .malformed(section: "operations", reason: problem) }
            }
            guard change.counterSpan >= 1, counter <= UInt64.max - change.counterSpan else {
                throw .malformed(section: "operations", reason: "change \(change.id) occupies no counters or overflows")
            }
            nextCounter[replicaIndex] = counter + change.counterSpan
            changes.append(change)
        }
        for column in [heads, places, deps, ops, texts] where !column.isAtEnd {
            throw .malformed(section: column.section, reason: "unexpected bytes after the last change")
        }
        return changes
    }

    mutating func operation(_ tag: ChangeCodec.OperationTag, own: UInt64, erased: Bool) throws(CodecError) -> Operation {
        switch tag {
        case .create:
            let kind = strings[try ops.count(atMost: strings.count - 1, "kind index")]
            return .create(kind: kind, predecessors: try dotList())
        case .delete:
            var observed = VersionVector()
            for dot in try dotList() { observed.record(dot) }
            return .delete(observed: observed)
        case .set:
            return .set(try value(), predecessors: try dotList())
        case .add:
            return .add(try value())
        case .remove:
            return .remove(try value(), observed: try dotList())
        case .insertText:
            let originLeft = try origin(own: own)
            let originRight = try origin(own: own)
            if erased {
                let length = try ops.count(atMost: erasedScalarsLeft, "erased text length")
                erasedScalarsLeft -= length
                return .insertText(originLeft: originLeft, originRight: originRight, text: Change.erasedText(count: UInt64(length)))
            }
            let length = try ops.count(atMost: texts.remaining, "text length")
            return .insertText(
                originLeft: originLeft, originRight: originRight, text: try Self.utf8(try texts.raw(length), section: "texts"))
        case .deleteText:
            var ranges: [DotRange] = []
            for _ in 0..<(try ops.count(atMost: ops.remaining, "range count")) {
                let replica = replicas[try ops.count(atMost: replicas.count - 1, "replica index")]
                let first = own &+ UInt64(bitPattern: try ops.signed())
                let length = try ops.varint()
                guard length >= 1 else { throw .malformed(section: "operations", reason: "empty deletion range") }
                do throws(DotRangeError) {
                    ranges.append(try DotRange(replica: replica, firstCounter: first, length: length))
                } catch {
                    throw .malformed(section: "operations", reason: error.description)
                }
            }
            return .deleteText(ranges)
        case .insertItem:
            let originLeft = try origin(own: own)
            let originRight = try origin(own: own)
            return .insertItem(originLeft: originLeft, originRight: originRight, value: try value())
        case .moveItem:
            guard let element = try origin(own: own) else { throw .malformed(section: "operations", reason: "move without element") }
            let originLeft = try origin(own: own)
            let originRight = try origin(own: own)
            return .moveItem(element: element, originLeft: originLeft, originRight: originRight, predecessors: try dotList())
        case .removeItem:
            guard let element = try origin(own: own) else { throw .malformed(section: "operations", reason: "remove without element") }
            return .removeItem(element: element)
        case .erase:
            let target = try self.target()
            switch try ops.byte() {
            case 0: return .erase(Erasure(target: target))
            case 1:
                let space = SpaceID(UUID(byteArray: Array(try ops.raw(16))))
                let replica = replicas[try ops.count(atMost: replicas.count - 1, "replica index")]
                let approved = try self.target()
                let issuedAt = try ops.signed()
                guard let signer = PublicSigningKey(rawRepresentation: Array(try ops.raw(32))) else {
                    throw .malformed(section: "operations", reason: "an erasure approval's signer is not a key")
                }
                let signature = Array(try ops.raw(64))
                let approval = ErasureApproval(
                    space: space, replica: replica, target: approved, issuedAt: issuedAt, signer: signer, signature: signature)
                return .erase(Erasure(target: target, approval: approval))
            case let flag: throw .malformed(section: "operations", reason: "unknown erasure approval flag \(flag)")
            }
        }
    }

    mutating func target() throws(CodecError) -> Erasure.Target {
        switch try ops.byte() {
        case 0: return .entity(entities[try ops.count(atMost: entities.count - 1, "entity index")])
        case 1:
            let entity = entities[try ops.count(atMost: entities.count - 1, "entity index")]
            return .field(entity, strings[try ops.count(atMost: strings.count - 1, "field index")])
        case 2:
            let member = UUID(byteArray: Array(try ops.raw(16)))
            var erased: [ReplicaID] = []
            for _ in 0..<(try ops.count(atMost: ops.remaining, "device count")) {
                erased.append(replicas[try ops.count(atMost: replicas.count - 1, "replica index")])
            }
            return .contributions(member: member, replicas: erased)
        case let kind: throw .malformed(section: "operations", reason: "unknown erasure target \(kind)")
        }
    }

    mutating func origin(own: UInt64) throws(CodecError) -> Dot? {
        let tag = try ops.count(atMost: replicas.count, "origin replica")
        guard tag > 0 else { return nil }
        let counter = own &+ UInt64(bitPattern: try ops.signed())
        guard counter >= 1 else { throw .malformed(section: "operations", reason: "origin counter zero") }
        return Dot(replicas[tag - 1], counter)
    }

    static func dot(from reader: inout ByteReader, replicas: [ReplicaID]) throws(CodecError) -> Dot {
        let replica = replicas[try reader.count(atMost: replicas.count - 1, "replica index")]
        let counter = try reader.varint()
        guard counter >= 1 else { throw .malformed(section: reader.section, reason: "counter zero") }
        return Dot(replica, counter)
    }

    mutating func dotList() throws(CodecError) -> [Dot] {
        var dots: [Dot] = []
        for _ in 0..<(try ops.count(atMost: ops.remaining, "dot count")) { dots.append(try Self.dot(from: &ops, replicas: replicas)) }
        return dots
    }

    mutating func value() throws(CodecError) -> FieldValue {
        let tagByte = try ops.byte()
        guard let tag = ChangeCodec.ValueTag(rawValue: tagByte) else {
            throw .malformed(section: "operations", reason: "unknown value kind \(tagByte)")
        }
        switch tag {
        case .null: return .null
        case .falseValue: return .bool(false)
        case .trueValue: return .bool(true)
        case .int: return .int(try ops.signed())
        case .string: return .string(strings[try ops.count(atMost: strings.count - 1, "string index")])
        case .timestamp: return .timestamp(try ops.signed())
        case .reference: return .reference(entities[try ops.count(atMost: entities.count - 1, "entity index")])
        }
    }
}
