import Foundation

/// The JSON form of a change: what the HTTP API carries, so that `curl` or a few lines
/// of Python can read and write changes without the binary codec.
///
/// ```json
/// {"id": "00000000000000a1@42", "hlc": "1700000000000.0", "space": "…uuid…",
///  "entity": "…uuid…", "field": "summary", "deps": ["00000000000000b2@7"],
///  "op": {"kind": "insertText", "left": "00000000000000a1@41", "right": null, "text": "Hello"}}
/// ```
/// Dots are `replica@counter`; timestamps `wallTime.logical`. Operation kinds and their
/// fields are listed in `docs/PROTOCOL.md`. A change whose content was erased has
/// `"erased": "<base64 of its 32-byte content hash>"` and placeholders in its operation
/// (values `null`, text of U+001A).
extension Change: Codable {
    enum CodingKeys: String, CodingKey {
        case id, hlc, space, entity, field, deps, op, erased
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let timestamp = try container.decode(HLCText.self, forKey: .hlc)
        self.init(
            id: try container.decode(Dot.self, forKey: .id), timestamp: timestamp.value,
            space: try container.decode(SpaceID.self, forKey: .space), entity: try container.decode(EntityID.self, forKey: .entity),
            field: try container.decode(String.self, forKey: .field),
            dependencies: try container.decodeIfPresent([Dot].self, forKey: .deps) ?? [],
            operation: try container.decode(Operation.self, forKey: .op))
        if container.contains(.erased) {
            erasedContentHash = try container.decodeBase64(forKey: .erased, count: 32)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(HLCText(value: timestamp), forKey: .hlc)
        try container.encode(space, forKey: .space)
        try container.encode(entity, forKey: .entity)
        try container.encode(field, forKey: .field)
        try container.encode(dependencies, forKey: .deps)
        try container.encode(operation, forKey: .op)
        if let erasedContentHash { try container.encodeBase64(erasedContentHash, forKey: .erased) }
    }
}

/// `wallTime.logical` as text.
private struct HLCText: Codable {
    var value: HLCTimestamp

    init(value: HLCTimestamp) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let wall = UInt64(parts[0]), let logical = UInt16(parts[1]) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected wallTime.logical, got \(text)")
        }
        value = HLCTimestamp(wallTime: wall, logical: logical)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("\(value.wallTime).\(value.logical)")
    }
}

extension Dot {
    /// Parses `replica@counter`.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let replica = ReplicaID(String(parts[0])), let counter = UInt64(parts[1]), counter > 0 else {
            return nil
        }
        self.init(replica, counter)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let dot = Dot(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected replica@counter, got \(text)")
        }
        self = dot
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Operation: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, entityKind, predecessors, observed, value, left, right, text, ranges, element, target, approval
    }

    enum Kind: String, Codable {
        case create, delete, set, add, remove, insertText, deleteText, insertItem, moveItem, removeItem, erase
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Kind.self, forKey: .kind) {
        case .create:
            self = .create(
                kind: try c.decode(String.self, forKey: .entityKind),
                predecessors: try c.decodeIfPresent([Dot].self, forKey: .predecessors) ?? [])
        case .delete:
            self = .delete(observed: try c.decode(VersionVectorText.self, forKey: .observed).vector)
        case .set:
            self = .set(
                try c.decode(FieldValue.self, forKey: .value), predecessors: try c.decodeIfPresent([Dot].self, forKey: .predecessors) ?? [])
        case .add:
            self = .add(try c.decode(FieldValue.self, forKey: .value))
        case .remove:
            self = .remove(try c.decode(FieldValue.self, forKey: .value), observed: try c.decode([Dot].self, forKey: .observed))
        case .insertText:
            self = .insertText(
                originLeft: try c.decodeIfPresent(Dot.self, forKey: .left), originRight: try c.decodeIfPresent(Dot.self, forKey: .right),
                text: try c.decode(String.self, forKey: .text))
        case .deleteText:
            self = .deleteText(try c.decode([DotRange].self, forKey: .ranges))
        case .insertItem:
            self = .insertItem(
                originLeft: try c.decodeIfPresent(Dot.self, forKey: .left), originRight: try c.decodeIfPresent(Dot.self, forKey: .right),
                value: try c.decode(FieldValue.self, forKey: .value))
        case .moveItem:
            self = .moveItem(
                element: try c.decode(Dot.self, forKey: .element), originLeft: try c.decodeIfPresent(Dot.self, forKey: .left),
                originRight: try c.decodeIfPresent(Dot.self, forKey: .right),
                predecessors: try c.decodeIfPresent([Dot].self, forKey: .predecessors) ?? [])
        case .removeItem:
            self = .removeItem(element: try c.decode(Dot.self, forKey: .element))
        case .erase:
            self = .erase(
                Erasure(
                    target: try c.decode(Erasure.Target.self, forKey: .target),
                    approval: try c.decodeIfPresent(ErasureApproval.self, forKey: .approval)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .create(let kind, let predecessors):
            try c.encode(Kind.create, forKey: .kind)
            try c.encode(kind, forKey: .entityKind)
            try c.encode(predecessors, forKey: .predecessors)
        case .delete(let observed):
            try c.encode(Kind.delete, forKey: .kind)
            try c.encode(VersionVectorText(vector: observed), forKey: .observed)
        case .set(let value, let predecessors):
            try c.encode(Kind.set, forKey: .kind)
            try c.encode(value, forKey: .value)
            try c.encode(predecessors, forKey: .predecessors)
        case .add(let value):
            try c.encode(Kind.add, forKey: .kind)
            try c.encode(value, forKey: .value)
        case .remove(let value, let observed):
            try c.encode(Kind.remove, forKey: .kind)
            try c.encode(value, forKey: .value)
            try c.encode(observed, forKey: .observed)
        case .insertText(let left, let right, let text):
            try c.encode(Kind.insertText, forKey: .kind)
            try c.encode(left, forKey: .left)
            try c.encode(right, forKey: .right)
            try c.encode(text, forKey: .text)
        case .deleteText(let ranges):
            try c.encode(Kind.deleteText, forKey: .kind)
            try c.encode(ranges, forKey: .ranges)
        case .insertItem(let left, let right, let value):
            try c.encode(Kind.insertItem, forKey: .kind)
            try c.encode(left, forKey: .left)
            try c.encode(right, forKey: .right)
            try c.encode(value, forKey: .value)
        case .moveItem(let element, let left, let right, let predecessors):
            try c.encode(Kind.moveItem, forKey: .kind)
            try c.encode(element, forKey: .element)
            try c.encode(left, forKey: .left)
            try c.encode(right, forKey: .right)
            try c.encode(predecessors, forKey: .predecessors)
        case .removeItem(let element):
            try c.encode(Kind.removeItem, forKey: .kind)
            try c.encode(element, forKey: .element)
        case .erase(let erasure):
            try c.encode(Kind.erase, forKey: .kind)
            try c.encode(erasure.target, forKey: .target)
            try c.encodeIfPresent(erasure.approval, forKey: .approval)
        }
    }
}

/// A version vector as a JSON object `{"replica": counter}`.
public struct VersionVectorText: Codable, Sendable, Equatable {
    public var vector: VersionVector

    public init(vector: VersionVector) { self.vector = vector }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode([String: UInt64].self)
        var vector = VersionVector()
        for (key, counter) in raw {
            guard let replica = ReplicaID(key) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a replica ID: \(key)")
            }
            vector[replica] = counter
        }
        self.vector = vector
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Dictionary(uniqueKeysWithValues: vector.lastDots.map { ($0.replica.description, $0.counter) }))
    }
}

/// `{"string": "…"}`, `{"int": 1}`, `{"bool": true}`, `{"timestamp": ms}`, `{"reference": "uuid"}` or `null`.
extension FieldValue: Codable {
    enum CodingKeys: String, CodingKey {
        case bool, int, string, timestamp, reference
    }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), single.decodeNil() {
            self = .null
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: c.codingPath, debugDescription: "a value has exactly one of bool, int, string, timestamp, reference"))
        }
        switch key {
        case .bool: self = .bool(try c.decode(Bool.self, forKey: key))
        case .int: self = .int(try c.decode(Int64.self, forKey: key))
        case .string: self = .string(try c.decode(String.self, forKey: key))
        case .timestamp: self = .timestamp(try c.decode(Int64.self, forKey: key))
        case .reference: self = .reference(try c.decode(EntityID.self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if case .null = self {
            var single = encoder.singleValueContainer()
            try single.encodeNil()
            return
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .null: break
        case .bool(let value): try c.encode(value, forKey: .bool)
        case .int(let value): try c.encode(value, forKey: .int)
        case .string(let value): try c.encode(value, forKey: .string)
        case .timestamp(let value): try c.encode(value, forKey: .timestamp)
        case .reference(let value): try c.encode(value, forKey: .reference)
        }
    }
}
