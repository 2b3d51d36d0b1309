/// A reflective question, reusable across sessions, read from a ``SpaceDocument``.
///
/// The first library of prompts is ``PromptLibrary/starter``.
public struct Prompt: EntityView {
    /// Field names of a prompt entity.
    public enum Field {
        /// Register, string: the question.
        public static let text = "text"
        /// Register, string: the theme it belongs to.
        public static let theme = "theme"
        /// Register, string: where it comes from (a citation).
        public static let source = "source"
    }

    /// The entity kind this view reads.
    public static let entityKind = EntityKind.prompt

    /// The prompt entity.
    public let id: EntityID
    /// The question.
    public let text: String?
    /// The theme it belongs to.
    public let theme: String?
    /// Where it comes from.
    public let source: String?

    /// Reads a prompt; `nil` if the entity was never created or is of another kind.
    public init?(_ id: EntityID, in document: SpaceDocument) {
        guard document.isEntity(id, ofKind: Self.entityKind) else { return nil }
        self.id = id
        text = document.stringValue(Field.text, of: id)
        theme = document.stringValue(Field.theme, of: id)
        source = document.stringValue(Field.source, of: id)
    }
}
