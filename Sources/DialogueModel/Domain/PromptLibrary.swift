/// A reflective question from the built-in library.
///
/// Its ``id`` is the same on every device for ever, so two devices that each add it to
/// a space create the same ``Prompt`` entity, and the two creations converge.
public struct StarterPrompt: Sendable, Hashable {
    /// The prompt entity's identifier: a name-based (version 5) UUID of the text.
    public let id: EntityID
    /// The question, verbatim from the source.
    public let text: String
    /// The list it comes from.
    public let theme: String
    /// Where it comes from.
    public let source: String

    /// Whether it comes from one of the source's "Personal reflection" sections.
    public var isPersonalReflection: Bool { source.contains("Personal reflection") }
}

/// The built-in library of reflective prompts.
public enum PromptLibrary {
    /// The themes of the starter library: the section of the course reading each
    /// "Personal reflection" list closes.
    public enum Theme {
        /// The first list: "Think about your experience of distributed leadership to date".
        public static let distributedLeadership = "Distributed leadership"
        /// The second list: "Thinking about your current situation and school".
        public static let learningCentredLeadership = "Learning-centred leadership"
    }

    /// The questions of the two "Personal reflection" lists of the course reading
    /// *Distributed leadership*, verbatim and in the text's order.
    ///
    /// Identifiers are `uuid5(uuid5(NAMESPACE_URL, "urn:dialogue:prompt-library:v1"), text)`,
    /// computed once and written here: never change a text or an identifier; retire a
    /// prompt by adding a corrected one.
    public static let starter: [StarterPrompt] = [
        entry(
            "d494aac8-9c67-52ba-873c-b0b7db965626",
            "What has been your experience of distributed leadership, both as a senior leader and as a teacher?",
            Theme.distributedLeadership, list: 1, question: 1),
        entry(
            "b692b118-3a14-5846-88a0-ce52c24467e1",
            "Where would your current experience of distributed leadership fit on this continuum?",
            Theme.distributedLeadership, list: 1, question: 2),
        entry(
            "b4fc31c0-51d1-584b-96dc-60cc1972a6c4",
            "What were the positive aspects of this way of working for you? For others?",
            Theme.distributedLeadership, list: 1, question: 3),
        entry(
            "3938c30e-aaab-58e6-a3d2-be431ef194ca",
            "What were the negative aspects of this way of working?",
            Theme.distributedLeadership, list: 1, question: 4),
        entry(
            "aef2e21a-4545-5758-b905-c5e2adb50285",
            "How could you use distributed leadership through partnership working in your current role as senior leader to impact positively on outcomes for pupils?",
            Theme.distributedLeadership, list: 1, question: 5),
        entry(
            "23da3c43-bea2-587f-830d-af2a09e421a0",
            "How could you use modelling, monitoring and dialogue to develop partnerships within your school, for example with other senior leaders and middle leaders?",
            Theme.learningCentredLeadership, list: 2, question: 1),
        entry(
            "c530f019-7a0a-58d5-bc69-972082676355",
            "Would these strategies work equally well with partners who are external to the school, particularly when you may not have regular face-to-face contact? How would you manage each of these techniques?",
            Theme.learningCentredLeadership, list: 2, question: 2),
    ]

    /// The starter prompts of the source's "Personal reflection" sections: the questions a
    /// member answers for themself. Devices put them in the member's personal space
    /// (``SpaceDirectory/Kind/personal``), never in a school's or a partnership's.
    public static var personalReflection: [StarterPrompt] {
        starter.filter(\.isPersonalReflection)
    }

    /// The starter prompt with the given identifier.
    public static func starterPrompt(_ id: EntityID) -> StarterPrompt? {
        starter.first { $0.id == id }
    }

    /// Builds an entry from a literal identifier (checked by the tests).
    private static func entry(_ id: String, _ text: String, _ theme: String, list: Int, question: Int) -> StarterPrompt {
        guard let entityID = EntityID(id) else { preconditionFailure("malformed built-in prompt identifier \(id)") }
        let number = question < 10 ? "0\(question)" : "\(question)"
        return StarterPrompt(
            id: entityID, text: text, theme: theme,
            source: "Distributed leadership (course reading), Personal reflection \(list), question \(number)")
    }
}
