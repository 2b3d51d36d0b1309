/// Reading a vocabulary term as a person types it: the one matching rule, for the command
/// line and apps alike.
extension VocabularyTerm {
    /// The term `text` names: its raw value or its display name, in any case, with spaces,
    /// hyphens and underscores alike (`synergy`, `Synergy`, `Shared responsibility`,
    /// `shared_responsibility`, `SHARED-RESPONSIBILITY`); `nil` when it names none.
    public init?(matching text: String) {
        let key = Self.matchKey(text)
        guard !key.isEmpty,
            let term = Self.allCases.first(where: { Self.matchKey($0.rawValue) == key || Self.matchKey($0.displayName) == key })
        else { return nil }
        self = term
    }

    /// The term `text` names (see ``init(matching:)``).
    /// - Throws: ``UnknownTermError`` listing the accepted terms and the nearest one.
    public static func matching(_ text: String) throws(UnknownTermError) -> Self {
        guard let term = Self(matching: text) else { throw UnknownTermError(text, among: Self.self) }
        return term
    }

    /// The raw value a typed `text` is nearest to, for "did you mean", or `nil`.
    public static func suggestion(for text: String) -> String? {
        let candidates = allCases.map(\.rawValue)
        let keys = candidates.map(matchKey)
        let names = allCases.map { matchKey($0.displayName) }
        guard let near = Suggestions.nearest(to: matchKey(text), in: keys + names), let index = (keys + names).firstIndex(of: near)
        else { return nil }
        return candidates[index % candidates.count]
    }

    /// Lower case, runs of spaces and underscores as one hyphen, ends trimmed.
    static func matchKey(_ text: String) -> String {
        var key = ""
        for character in text.lowercased() {
            let normal: Character = character == " " || character == "_" ? "-" : character
            if normal == "-", key.last == "-" || key.isEmpty { continue }
            key.append(normal)
        }
        while key.last == "-" { key.removeLast() }
        return key
    }
}

/// A typed vocabulary term that names none: says which are accepted, and the nearest.
public struct UnknownTermError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was typed.
    public var text: String
    /// The accepted raw values, in the vocabulary's order.
    public var accepted: [String]
    /// The nearest accepted value, if one is near.
    public var suggestion: String?

    /// The error for `text`, not a term of `vocabulary`.
    public init<Term: VocabularyTerm>(_ text: String, among vocabulary: Term.Type) {
        self.text = text
        accepted = Term.allCases.map(\.rawValue)
        suggestion = Term.suggestion(for: text)
    }

    public var description: String {
        "'\(text)' is not accepted" + (suggestion.map { "; did you mean '\($0)'?" } ?? ".")
            + " Accepted: \(accepted.joined(separator: ", ")) (or their names, in any case)"
    }
}
