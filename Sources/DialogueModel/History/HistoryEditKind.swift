/// What one edit did, with a short excerpt of text (at most ``excerptLimit`` characters,
/// "…" marking a cut) and its full length.
///
/// JSON: `{"type": "created"|"deleted"|"set"|"added"|"removed"|"insertedText"|"deletedText"
/// |"listInserted"|"listMoved"|"listRemoved"|"erased"|"erasure", …}` with `target` (erasure:
/// an ``Erasure/Target``), `kind` (created), `value` (set,
/// added, removed, listInserted: a ``FieldValue``), `excerpt` and `length` (text; a
/// deletion's excerpt is left out when the deleted characters are not held).
public enum HistoryEditKind: Sendable, Hashable, Codable {
    /// The entity was created with this kind.
    case created(kind: String)
    /// The entity was deleted.
    case deleted
    /// A register was set to a value.
    case set(FieldValue)
    /// A value was added to a set.
    case added(FieldValue)
    /// A value was removed from a set.
    case removed(FieldValue)
    /// Text was inserted: an excerpt of it and its length in characters (Unicode scalars).
    case insertedText(excerpt: String, length: Int)
    /// Text was deleted: an excerpt of what was deleted (`nil` when the deleted characters
    /// are not held) and how many characters.
    case deletedText(excerpt: String?, length: Int)
    /// An element was inserted into a list.
    case listInserted(FieldValue)
    /// A list element was moved.
    case listMoved
    /// A list element was removed.
    case listRemoved
    /// An edit whose content an erasure dropped: only that it happened is held.
    case erased
    /// An erasure of this target.
    case erasure(Erasure.Target)

    /// The most characters an excerpt holds before it is cut.
    public static let excerptLimit = 40

    /// `text` cut to ``excerptLimit`` characters, "…" marking the cut.
    public static func excerpt(_ scalars: some Collection<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.prefix(excerptLimit))
        return String(view) + (scalars.count > excerptLimit ? "…" : "")
    }

    private enum CodingKeys: String, CodingKey { case type, kind, value, excerpt, length, target }

    /// The `type` in JSON.
    public var type: String {
        switch self {
        case .created: "created"
        case .deleted: "deleted"
        case .set: "set"
        case .added: "added"
        case .removed: "removed"
        case .insertedText: "insertedText"
        case .deletedText: "deletedText"
        case .listInserted: "listInserted"
        case .listMoved: "listMoved"
        case .listRemoved: "listRemoved"
        case .erased: "erased"
        case .erasure: "erasure"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .created(let kind): try container.encode(kind, forKey: .kind)
        case .set(let value), .added(let value), .removed(let value), .listInserted(let value):
            try container.encode(value, forKey: .value)
        case .insertedText(let excerpt, let length):
            try container.encode(excerpt, forKey: .excerpt)
            try container.encode(length, forKey: .length)
        case .deletedText(let excerpt, let length):
            try container.encodeIfPresent(excerpt, forKey: .excerpt)
            try container.encode(length, forKey: .length)
        case .erasure(let target): try container.encode(target, forKey: .target)
        case .deleted, .listMoved, .listRemoved, .erased: break
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "created": self = .created(kind: try container.decode(String.self, forKey: .kind))
        case "deleted": self = .deleted
        case "set": self = .set(try container.decode(FieldValue.self, forKey: .value))
        case "added": self = .added(try container.decode(FieldValue.self, forKey: .value))
        case "removed": self = .removed(try container.decode(FieldValue.self, forKey: .value))
        case "insertedText":
            self = .insertedText(
                excerpt: try container.decode(String.self, forKey: .excerpt), length: try container.decode(Int.self, forKey: .length))
        case "deletedText":
            self = .deletedText(
                excerpt: try container.decodeIfPresent(String.self, forKey: .excerpt),
                length: try container.decode(Int.self, forKey: .length))
        case "listInserted": self = .listInserted(try container.decode(FieldValue.self, forKey: .value))
        case "listMoved": self = .listMoved
        case "listRemoved": self = .listRemoved
        case "erased": self = .erased
        case "erasure": self = .erasure(try container.decode(Erasure.Target.self, forKey: .target))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown edit type \(type)")
        }
    }
}

/// Describes an entity's edits as ``HistoryEditKind``s: what each did, a deletion of text
/// with the characters it deleted. Record every text insertion of the entity held first
/// (``record(_:)``, anyone's: a deletion may remove another device's text), then
/// ``describe(_:)-(Change)`` each edit. Used by a replica's `history` and the server's subject
/// access report, so both tell an edit the same way.
public struct EditDescriber: Sendable {
    /// Per device, insertions by first counter: the scalars at counters first, first + 1…
    private var runs: [ReplicaID: [(first: UInt64, scalars: [Unicode.Scalar])]] = [:]

    /// Creates a describer that has recorded no insertion yet.
    public init() {}

    /// Records the text a change inserted (other changes, and erased text, are ignored).
    public mutating func record(_ change: Change) {
        guard !change.isContentErased, case .insertText(_, _, let text) = change.operation else { return }
        runs[change.replica, default: []].append((change.id.counter, Array(text.unicodeScalars)))
    }

    /// The character inserted at `counter` by `replica`, if held.
    private func scalar(_ replica: ReplicaID, _ counter: UInt64) -> Unicode.Scalar? {
        guard let list = runs[replica] else { return nil }
        for run in list where counter >= run.first && counter - run.first < UInt64(run.scalars.count) {
            return run.scalars[Int(counter - run.first)]
        }
        return nil
    }

    /// What `change` did: ``HistoryEditKind/erased`` when an erasure dropped its content.
    public func describe(_ change: Change) -> HistoryEditKind {
        change.isContentErased ? .erased : describe(change.operation)
    }

    /// What `operation` did, a text deletion with an excerpt of the characters recorded.
    public func describe(_ operation: Operation) -> HistoryEditKind {
        switch operation {
        case .create(let kind, _): return .created(kind: kind)
        case .delete: return .deleted
        case .set(let value, _): return .set(value)
        case .add(let value): return .added(value)
        case .remove(let value, _): return .removed(value)
        case .insertText(_, _, let text):
            return .insertedText(excerpt: HistoryEditKind.excerpt(text.unicodeScalars), length: text.unicodeScalars.count)
        case .deleteText(let ranges):
            let length = ranges.reduce(0) { $0 + Int(clamping: $1.length) }
            // Enough to show the excerpt and know whether it was cut.
            let wanted = min(length, HistoryEditKind.excerptLimit + 1)
            var deleted: [Unicode.Scalar] = []
            outer: for range in ranges {
                for offset in 0..<range.length {
                    if deleted.count == wanted { break outer }
                    guard let scalar = scalar(range.replica, range.firstCounter + offset) else {
                        return .deletedText(excerpt: nil, length: length)
                    }
                    deleted.append(scalar)
                }
            }
            return .deletedText(excerpt: HistoryEditKind.excerpt(deleted), length: length)
        case .insertItem(_, _, let value): return .listInserted(value)
        case .moveItem: return .listMoved
        case .removeItem: return .listRemoved
        case .erase(let erasure): return .erasure(erasure.target)
        }
    }
}
