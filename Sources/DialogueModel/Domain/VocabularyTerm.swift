/// A term of the domain's fixed vocabulary (a strategy, a hallmark, a role…), stored in
/// a register or a set field as its raw value.
///
/// Raw values are stable kebab-case strings: they travel between devices and live in
/// stored changes for ever, so a case is never renamed. A field's rule accepts only the
/// terms this version knows (``ValueRule/vocabulary(_:)``), and replicas and
/// the server refuse others; so a case added later needs every server and replica of a
/// partnership updated before it is first written. A reader that meets a raw value it
/// does not know (stored before values were checked) maps it to `nil` rather than failing.
public protocol VocabularyTerm: RawRepresentable, CaseIterable, Codable, Sendable, Hashable, FieldRepresentable
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

    /// The term's position in `allCases` (the order the source text gives).
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
