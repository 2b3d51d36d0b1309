/// Dropping a change's content for an erasure (docs/TRUST.md, decision 4): what merging
/// needs stays (ids, dots, origins, predecessors, observed tags, counter span) and the
/// words and values go. The result is a *stripped* change: its operation holds
/// placeholders (``FieldValue/null``, text of ``Change/erasedScalar``) and
/// ``Change/erasedContentHash`` holds the hash of what it held.
extension Change {
    /// What stands for each erased character of an inserted text (ASCII SUB, "substitute"):
    /// a stripped insertion keeps its length, so later edits anchored on its characters
    /// still find them; the characters apply as deleted (never shown).
    public static let erasedScalar: Unicode.Scalar = "\u{1A}"

    /// Whether the change holds words or values an erasure drops. Creations, deletions,
    /// text deletions, moves and removals name only ids and kinds: nothing to drop.
    public var carriesContent: Bool {
        switch operation {
        case .set, .add, .remove, .insertText, .insertItem: true
        case .create, .delete, .deleteText, .moveItem, .removeItem, .erase: false
        }
    }

    /// Whether an erasure dropped this change's content.
    public var isContentErased: Bool { erasedContentHash != nil }

    /// This change with its content dropped (itself when it carries none or is stripped already).
    public func erasingContent() -> Change {
        guard carriesContent, erasedContentHash == nil else { return self }
        var copy = self
        copy.erasedContentHash = contentHash
        let placeholder: Operation
        switch operation {
        case .set(_, let predecessors): placeholder = .set(.null, predecessors: predecessors)
        case .add: placeholder = .add(.null)
        case .remove(_, let observed): placeholder = .remove(.null, observed: observed)
        case .insertText(let originLeft, let originRight, _):
            placeholder = .insertText(originLeft: originLeft, originRight: originRight, text: Self.erasedText(count: counterSpan))
        case .insertItem(let originLeft, let originRight, _):
            placeholder = .insertItem(originLeft: originLeft, originRight: originRight, value: .null)
        case .create, .delete, .deleteText, .moveItem, .removeItem, .erase: preconditionFailure("carries no content")
        }
        copy.replaceOperation(placeholder, span: counterSpan)
        return copy
    }

    /// Marks a change decoded from a stripped form (its operation holds placeholders already).
    package mutating func markContentErased(hash: [UInt8]) {
        erasedContentHash = hash
    }

    /// `count` erased characters.
    static func erasedText(count: UInt64) -> String {
        String(String.UnicodeScalarView(repeatElement(erasedScalar, count: Int(count))))
    }

    /// What makes a stripped change malformed: a hash that is not 32 bytes, or content
    /// beside it (a relay must not pass off other words under a kept hash), or nothing to strip.
    var erasureShapeProblem: String? {
        guard let hash = erasedContentHash else { return nil }
        guard hash.count == 32 else { return "an erased change's content hash must be 32 bytes" }
        switch operation {
        case .set(.null, _), .add(.null), .remove(.null, _), .insertItem(_, _, .null): return nil
        case .insertText(_, _, let text):
            return text.unicodeScalars.allSatisfy({ $0 == Self.erasedScalar }) ? nil : "an erased change still holds text"
        case .set, .add, .remove, .insertItem: return "an erased change still holds a value"
        case .create, .delete, .deleteText, .moveItem, .removeItem, .erase: return "a change without content cannot be erased"
        }
    }
}
