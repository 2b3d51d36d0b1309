/// A reflective question, reusable across sessions, read from a ``SpaceDocument``.
///
/// The first library of prompts is ``PromptLibrary/starter``.
public struct Prompt: EntityView {
    /// The fields of a prompt entity, each declared once (see ``FieldDescriptor``).
    public enum Key {
        /// The ``Field/text`` field.
        public static let text = FieldKey<Prompt, String>("text", .register, .nonEmptyText, column: "text")
        /// The ``Field/theme`` field.
        public static let theme = FieldKey<Prompt, String>("theme", .register, .text, column: "theme")
        /// The ``Field/source`` field.
        public static let source = FieldKey<Prompt, String>("source", .register, .text, column: "source")

        /// Every field, in declaration order.
        public static let all: [FieldDescriptor] = [text.descriptor, theme.descriptor, source.descriptor]
    }

    /// Field names of a prompt entity (the names of its ``Key``s).
    public enum Field {
        /// Register, string: the question.
        public static let text = Key.text.name
        /// Register, string: the theme it belongs to.
        public static let theme = Key.theme.name
        /// Register, string: where it comes from (a citation).
        public static let source = Key.source.name
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
