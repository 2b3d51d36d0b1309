import DialogueModel

/// Domain operations: what a leader does in a session, as typed calls.
extension SpaceEditor {
    /// Creates a dialogue session (status `planned` unless given).
    @discardableResult
    public mutating func createSession(
        title: String, scheduledAt: Int64? = nil, hostSchool: EntityID? = nil, facilitator: EntityID? = nil,
        strategy: LeadershipStrategy? = nil, focus: String? = nil, status: SessionStatus = .planned
    ) throws(ReplicaError) -> EntityID {
        try Self.validate(title, for: DialogueSession.Key.title)
        let id = try create(.session)
        try set(DialogueSession.Field.title, of: id, to: .string(title))
        try set(DialogueSession.Field.status, of: id, to: .string(status.rawValue))
        if let scheduledAt { try set(DialogueSession.Field.scheduledAt, of: id, to: .timestamp(scheduledAt)) }
        if let hostSchool { try set(DialogueSession.Field.hostSchool, of: id, to: .reference(hostSchool)) }
        if let facilitator { try set(DialogueSession.Field.facilitator, of: id, to: .reference(facilitator)) }
        if let strategy { try set(DialogueSession.Field.strategy, of: id, to: .string(strategy.rawValue)) }
        if let focus { try set(DialogueSession.Field.focus, of: id, to: .string(focus)) }
        return id
    }

    /// Adds a participant to a session.
    public mutating func addParticipant(_ member: EntityID, to session: EntityID) throws(ReplicaError) {
        _ = try requireEntity(session, .session)
        try add(.reference(member), to: DialogueSession.Field.participants, of: session)
    }

    /// Removes a participant from a session.
    public mutating func removeParticipant(_ member: EntityID, from session: EntityID) throws(ReplicaError) {
        _ = try requireEntity(session, .session)
        try remove(.reference(member), from: DialogueSession.Field.participants, of: session)
    }

    /// Puts a prompt on a session's agenda at `index` (the end when `nil`).
    public mutating func addToAgenda(_ prompt: EntityID, of session: EntityID, at index: Int? = nil) throws(ReplicaError) {
        _ = try requireEntity(session, .session)
        try insertItem(.reference(prompt), into: DialogueSession.Field.agenda, of: session, at: index)
    }

    /// Takes the prompt at `index` off a session's agenda.
    public mutating func removeFromAgenda(at index: Int, of session: EntityID) throws(ReplicaError) {
        _ = try requireEntity(session, .session)
        try removeItem(from: DialogueSession.Field.agenda, of: session, at: index)
    }

    /// Moves the agenda item at `from` to `to`.
    public mutating func moveOnAgenda(from: Int, to: Int, of session: EntityID) throws(ReplicaError) {
        _ = try requireEntity(session, .session)
        try moveItem(in: DialogueSession.Field.agenda, of: session, from: from, to: to)
    }

    /// Captures an insight in a session, optionally answering a prompt. Its author is the
    /// member certified for this device (none before the first login); `author`, if given,
    /// must be that member (``ReplicaError/authorNotCertified(claimed:certified:)``).
    @discardableResult
    public mutating func captureInsight(
        in session: EntityID, text: String, prompt: EntityID? = nil, kind: InsightKind? = nil, author: EntityID? = nil,
        hallmarks: [Hallmark] = [], influence: Influence? = nil, evidenceSource: String? = nil
    ) throws(ReplicaError) -> EntityID {
        _ = try requireEntity(session, .session)
        let id = try create(.insight)
        try set(Insight.Field.session, of: id, to: .reference(session))
        if !text.isEmpty { try editText(Insight.Field.text, of: id, at: 0, insert: text) }
        if let prompt { try set(Insight.Field.prompt, of: id, to: .reference(prompt)) }
        if let kind { try set(Insight.Field.kind, of: id, to: .string(kind.rawValue)) }
        if let author = author ?? certifiedMember { try set(Insight.Field.author, of: id, to: .reference(author)) }
        if let influence { try set(Insight.Field.influence, of: id, to: .string(influence.rawValue)) }
        if let evidenceSource { try set(Insight.Field.evidenceSource, of: id, to: .string(evidenceSource)) }
        for hallmark in hallmarks { try tag(id, with: hallmark) }
        return id
    }

    /// Tags an insight with one of Dean's hallmarks.
    public mutating func tag(_ insight: EntityID, with hallmark: Hallmark) throws(ReplicaError) {
        _ = try requireEntity(insight, .insight)
        try add(.string(hallmark.rawValue), to: Insight.Field.hallmarks, of: insight)
    }

    /// Removes a hallmark tag from an insight.
    public mutating func untag(_ insight: EntityID, hallmark: Hallmark) throws(ReplicaError) {
        _ = try requireEntity(insight, .insight)
        try remove(.string(hallmark.rawValue), from: Insight.Field.hallmarks, of: insight)
    }

    /// Adds a follow-up action (status `open`).
    @discardableResult
    public mutating func addAction(
        _ description: String, owner: EntityID? = nil, dueDate: String? = nil, session: EntityID? = nil, insight: EntityID? = nil
    ) throws(ReplicaError) -> EntityID {
        try Self.validate(description, for: Action.Key.description)
        if let dueDate { try Self.validate(dueDate, for: Action.Key.dueDate) }
        let id = try create(.action)
        try set(Action.Field.description, of: id, to: .string(description))
        try set(Action.Field.status, of: id, to: .string(ActionStatus.open.rawValue))
        if let owner { try set(Action.Field.owner, of: id, to: .reference(owner)) }
        if let dueDate { try set(Action.Field.dueDate, of: id, to: .string(dueDate)) }
        if let session { try set(Action.Field.session, of: id, to: .reference(session)) }
        if let insight { try set(Action.Field.insight, of: id, to: .reference(insight)) }
        return id
    }

    /// Gives an action to another owner.
    public mutating func reassign(_ action: EntityID, to owner: EntityID) throws(ReplicaError) {
        _ = try requireEntity(action, .action)
        try set(Action.Field.owner, of: action, to: .reference(owner))
    }

    /// Marks an action done.
    public mutating func complete(_ action: EntityID) throws(ReplicaError) {
        _ = try requireEntity(action, .action)
        try set(Action.Field.status, of: action, to: .string(ActionStatus.done.rawValue))
    }

    /// Adds a prompt to the library.
    @discardableResult
    public mutating func createPrompt(_ text: String, theme: String? = nil, source: String? = nil) throws(ReplicaError) -> EntityID {
        try Self.validate(text, for: Prompt.Key.text)
        let id = try create(.prompt)
        try set(Prompt.Field.text, of: id, to: .string(text))
        if let theme { try set(Prompt.Field.theme, of: id, to: .string(theme)) }
        if let source { try set(Prompt.Field.source, of: id, to: .string(source)) }
        return id
    }

    /// Adds a starter prompt (`PromptLibrary/starter`) under its fixed id, so that every
    /// device adding it creates the same entity; a deleted one is restored. Nothing is
    /// written when the space holds it already, live.
    public mutating func addStarterPrompt(_ starter: StarterPrompt) throws(ReplicaError) {
        let kind = document.kind(of: starter.id)
        if kind == EntityKind.prompt.rawValue, !document.isDeleted(starter.id) { return }
        if kind != nil, kind != EntityKind.prompt.rawValue {
            throw .wrongKind(starter.id, expected: .prompt, found: kind ?? "")
        }
        if kind == nil || document.isDeleted(starter.id) { try create(.prompt, id: starter.id) }
        try set(Prompt.Field.text, of: starter.id, to: .string(starter.text))
        try set(Prompt.Field.theme, of: starter.id, to: .string(starter.theme))
        try set(Prompt.Field.source, of: starter.id, to: .string(starter.source))
    }

    /// Adds a member (a person taking part).
    @discardableResult
    public mutating func createMember(
        _ displayName: String, role: MemberRole? = nil, homeSchool: EntityID? = nil
    ) throws(ReplicaError) -> EntityID {
        try Self.validate(displayName, for: Member.Key.displayName)
        let id = try create(.member)
        try set(Member.Field.displayName, of: id, to: .string(displayName))
        if let role { try set(Member.Field.role, of: id, to: .string(role.rawValue)) }
        if let homeSchool { try set(Member.Field.homeSchool, of: id, to: .reference(homeSchool)) }
        return id
    }

    /// Adds a school.
    @discardableResult
    public mutating func createSchool(
        _ name: String, reference: String? = nil, partnership: EntityID? = nil
    ) throws(ReplicaError) -> EntityID {
        try Self.validate(name, for: School.Key.name)
        let id = try create(.school)
        try set(School.Field.name, of: id, to: .string(name))
        if let reference { try set(School.Field.reference, of: id, to: .string(reference)) }
        if let partnership { try set(School.Field.partnership, of: id, to: .reference(partnership)) }
        return id
    }

    /// Adds a partnership.
    @discardableResult
    public mutating func createPartnership(_ name: String) throws(ReplicaError) -> EntityID {
        try Self.validate(name, for: Partnership.Key.name)
        let id = try create(.partnership)
        try set(Partnership.Field.name, of: id, to: .string(name))
        return id
    }
}
