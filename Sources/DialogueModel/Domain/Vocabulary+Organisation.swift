/// A member's role. The course reading names those who take leadership in schools and
/// partnerships: headteachers, senior and middle leaders, teachers, "learning
/// assistants and support staff", and colleagues from partner organisations.
public enum MemberRole: String, VocabularyTerm {
    /// Leads a school, or several.
    case headteacher
    /// A member of a senior leadership team.
    case seniorLeader = "senior-leader"
    /// Leads a phase, subject or team.
    case middleLeader = "middle-leader"
    /// A classroom teacher.
    case teacher
    /// A learning (teaching) assistant.
    case learningAssistant = "learning-assistant"
    /// Support staff.
    case supportStaff = "support-staff"
    /// Someone from outside the partnership's schools.
    case externalPartner = "external-partner"

    /// A human English name.
    public var displayName: String {
        switch self {
        case .headteacher: "Headteacher"
        case .seniorLeader: "Senior leader"
        case .middleLeader: "Middle leader"
        case .teacher: "Teacher"
        case .learningAssistant: "Learning assistant"
        case .supportStaff: "Support staff"
        case .externalPartner: "External partner"
        }
    }
}

/// Who owns a space: one space per partnership (shared across its schools) and one per
/// school (private to its members).
public enum SpaceOwnerKind: String, VocabularyTerm {
    /// A partnership's shared space.
    case partnership
    /// A school's private space.
    case school

    /// A human English name.
    public var displayName: String {
        switch self {
        case .partnership: "Partnership"
        case .school: "School"
        }
    }

    /// The entity kind of the owner.
    public var entityKind: EntityKind {
        switch self {
        case .partnership: .partnership
        case .school: .school
        }
    }
}
