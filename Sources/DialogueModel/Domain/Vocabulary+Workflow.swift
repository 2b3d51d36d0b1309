/// Where a dialogue session is in its life.
public enum SessionStatus: String, VocabularyTerm {
    /// Scheduled, not yet held.
    case planned
    /// Held; notes may still be added.
    case held
    /// Finished; the record is complete.
    case closed

    /// A human English name.
    public var displayName: String {
        switch self {
        case .planned: "Planned"
        case .held: "Held"
        case .closed: "Closed"
        }
    }
}

/// What an insight is. The kinds follow the course reading: reflection on
/// professional experience, "sharing effective practice", evidence gathered by
/// monitoring, "constructive feedback", and concerns (such as silos or a lack of
/// shared direction, the text's "potential downsides").
public enum InsightKind: String, VocabularyTerm {
    /// A reflection on one's own practice or experience.
    case reflection
    /// Effective practice worth sharing.
    case effectivePractice = "effective-practice"
    /// Evidence from monitoring: data, surveys, pupil interviews, classroom visits.
    case evidenceFromMonitoring = "evidence-from-monitoring"
    /// Feedback given to or received from a colleague.
    case feedback
    /// A concern to follow up.
    case concern

    /// A human English name.
    public var displayName: String {
        switch self {
        case .reflection: "Reflection"
        case .effectivePractice: "Effective practice"
        case .evidenceFromMonitoring: "Evidence from monitoring"
        case .feedback: "Feedback"
        case .concern: "Concern"
        }
    }
}

/// Where a follow-up action stands.
public enum ActionStatus: String, VocabularyTerm {
    /// To do.
    case open
    /// Done.
    case done
    /// No longer to be done.
    case cancelled

    /// A human English name.
    public var displayName: String {
        switch self {
        case .open: "Open"
        case .done: "Done"
        case .cancelled: "Cancelled"
        }
    }
}
