/// A term of the domain's fixed vocabulary (a strategy, a hallmark, a role…), stored in
/// a register or a set field as its raw value.
///
/// Raw values are stable kebab-case strings: they travel between devices and live in
/// stored changes for ever, so a case may be added but never renamed. A reader that
/// meets a raw value it does not know (written by a newer version) maps it to `nil`
/// rather than failing.
public protocol VocabularyTerm: RawRepresentable, CaseIterable, Codable, Sendable, Hashable
where RawValue == String, AllCases == [Self] {
    /// A human English name for the term, for display and exports.
    var displayName: String { get }
}

extension VocabularyTerm {
    /// The term stored in a field value, or `nil` when the value is not a string or
    /// names a term this version does not know.
    public init?(_ value: FieldValue?) {
        guard let raw = value?.stringValue else { return nil }
        self.init(rawValue: raw)
    }

    /// The term's position in ``allCases`` (the order the source text gives).
    public var ordinal: Int {
        Self.allCases.firstIndex(of: self) ?? Self.allCases.count
    }
}

extension FieldValue {
    /// The field value that stores a vocabulary term: its raw value as a string.
    public init(_ term: some VocabularyTerm) {
        self = .string(term.rawValue)
    }
}
