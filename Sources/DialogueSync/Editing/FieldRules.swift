import DialogueModel

/// What values each known field accepts, so bad input is refused before it becomes a change.
enum FieldRules {
    enum Rule {
        case text, nonEmptyText, timestamp, reference, date
        case term([String])
    }

    /// Every known field's CRDT type and rule, worked out once and indexed by the kind's
    /// ordinal: an edit checks both with one lookup.
    private static let entries: [[(name: String, type: FieldType, rule: Rule)]] = EntityKind.allCases.map { kind in
        kind.fields.map { spec in (spec.name, spec.type, declaredRule(for: spec.name, of: kind)) }
    }

    /// A known field's CRDT type and rule, or `nil` for a field the kind does not have.
    /// A kind has about ten fields with short names: a scan is cheaper than hashing one.
    static func entry(for field: String, of kind: EntityKind) -> (type: FieldType, rule: Rule)? {
        let length = field.utf8.count
        for entry in entries[kind.ordinal] where entry.name.utf8.count == length && entry.name == field {
            return (entry.type, entry.rule)
        }
        return nil
    }

    static func rule(for field: String, of kind: EntityKind) -> Rule {
        entry(for: field, of: kind)?.rule ?? .text
    }

    private static func declaredRule(for field: String, of kind: EntityKind) -> Rule {
        switch (kind, field) {
        case (.session, DialogueSession.Field.title), (.partnership, Partnership.Field.name), (.school, School.Field.name),
            (.member, Member.Field.displayName), (.prompt, Prompt.Field.text), (.action, Action.Field.description):
            .nonEmptyText
        case (.session, DialogueSession.Field.scheduledAt): .timestamp
        case (.session, DialogueSession.Field.status): .term(SessionStatus.allCases.map(\.rawValue))
        case (.session, DialogueSession.Field.strategy): .term(LeadershipStrategy.allCases.map(\.rawValue))
        case (.session, DialogueSession.Field.hostSchool), (.session, DialogueSession.Field.facilitator),
            (.session, DialogueSession.Field.participants), (.session, DialogueSession.Field.agenda),
            (.insight, Insight.Field.author), (.insight, Insight.Field.session), (.insight, Insight.Field.prompt),
            (.action, Action.Field.owner), (.action, Action.Field.insight), (.action, Action.Field.session),
            (.member, Member.Field.homeSchool), (.school, School.Field.partnership), (.partnership, Partnership.Field.schools),
            (.space, Space.Field.owner), (.space, Space.Field.members):
            .reference
        case (.insight, Insight.Field.kind): .term(InsightKind.allCases.map(\.rawValue))
        case (.insight, Insight.Field.influence): .term(Influence.allCases.map(\.rawValue))
        case (.insight, Insight.Field.hallmarks): .term(Hallmark.allCases.map(\.rawValue))
        case (.action, Action.Field.status): .term(ActionStatus.allCases.map(\.rawValue))
        case (.action, Action.Field.dueDate): .date
        case (.member, Member.Field.role): .term(MemberRole.allCases.map(\.rawValue))
        case (.partnership, Partnership.Field.continuum): .term(ContinuumPosition.allCases.map(\.rawValue))
        case (.space, Space.Field.ownerKind): .term(SpaceOwnerKind.allCases.map(\.rawValue))
        default: .text
        }
    }

    /// Throws ``ReplicaError/invalidValue(_:)`` naming the field and what it accepts.
    static func validate(_ value: FieldValue, for field: String, of kind: EntityKind) throws(ReplicaError) {
        try validate(value, against: rule(for: field, of: kind), for: field, of: kind)
    }

    /// The same, with the field's rule already looked up.
    static func validate(_ value: FieldValue, against rule: Rule, for field: String, of kind: EntityKind) throws(ReplicaError) {
        var name: String { "\(kind.rawValue).\(field)" }  // only for messages
        switch (rule, value) {
        case (.nonEmptyText, .null):
            throw .invalidValue("\(name) cannot be cleared")
        case (_, .null):
            return
        case (.text, .string), (.timestamp, .timestamp), (.reference, .reference):
            return
        case (.nonEmptyText, .string(let text)):
            if text.allSatisfy(\.isWhitespace) { throw .invalidValue("\(name) cannot be empty") }
        case (.date, .string(let text)):
            if !isCalendarDate(text) { throw .invalidValue("\(name) must be a date as YYYY-MM-DD, got '\(text)'") }
        case (.term(let allowed), .string(let text)):
            if !allowed.contains(text) { throw .invalidValue("\(name) must be one of \(allowed.joined(separator: ", ")); got '\(text)'") }
        default:
            throw .invalidValue("\(name) does not accept \(value)")
        }
    }

    /// `YYYY-MM-DD` with a real month and day.
    static func isCalendarDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month)
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day)
    }
}
