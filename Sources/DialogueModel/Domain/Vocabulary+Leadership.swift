/// The three interrelated strategies through which leaders work on their indirect
/// influence: "modelling, monitoring, dialogue" (Leithwood and Riehl, 2003, as cited in
/// the course reading *Distributed leadership*, section "Learning-centred leadership").
public enum LeadershipStrategy: String, VocabularyTerm {
    /// Setting an example: "everyone watches leaders closely".
    case modelling
    /// Analysing and acting on pupil progress and outcome data, surveys, pupil
    /// interviews, and visiting classrooms with constructive feedback.
    case monitoring
    /// Creating opportunities for teachers to talk with their colleagues about learning
    /// and teaching, "making tacit knowledge explicit".
    case dialogue

    /// A human English name.
    public var displayName: String {
        switch self {
        case .modelling: "Modelling"
        case .monitoring: "Monitoring"
        case .dialogue: "Dialogue"
        }
    }
}

/// Dean's eight hallmarks of distributed leadership (Dean, 2007, as cited in the course
/// reading *Distributed leadership*), used to tag insights. Declared in the text's order.
public enum Hallmark: String, VocabularyTerm {
    /// "Leadership is viewed in terms of the collective behaviour of many individuals
    /// rather than a designated role."
    case sharedResponsibility = "shared-responsibility"
    /// "More concerned with empowerment, participation and co-operation" than with
    /// command and control.
    case sharedPowerAndAuthority = "shared-power-and-authority"
    /// Decentralised decision-making; individuals "willingly sharing or overlapping
    /// roles with others whose skills and knowledge complement their own".
    case synergy
    /// Benefit "from the collective knowledge and skills of their leadership participants".
    case leadershipCapacity = "leadership-capacity"
    /// Senior leaders "contribute to the quality of thinking throughout the organisation"
    /// (after Senge, 1996).
    case organisationalLearning = "organisational-learning"
    /// A wider range of stakeholders in decisions, "reducing the likelihood that
    /// ill-considered or unethical decisions are made".
    case equitableAndEthicalClimate = "equitable-and-ethical-climate"
    /// "The cumulative result of shared responsibility, shared power and authority, and
    /// an ethical and organisational learning culture."
    case democraticAndInvestigativeCulture = "democratic-and-investigative-culture"
    /// Understanding and contributing to "an increasingly complex internal and external
    /// environment".
    case macroCommunityEngagement = "macro-community-engagement"

    /// A human English name.
    public var displayName: String {
        switch self {
        case .sharedResponsibility: "Shared responsibility"
        case .sharedPowerAndAuthority: "Shared power and authority"
        case .synergy: "Synergy"
        case .leadershipCapacity: "Leadership capacity"
        case .organisationalLearning: "Organisational learning"
        case .equitableAndEthicalClimate: "Equitable and ethical climate"
        case .democraticAndInvestigativeCulture: "Democratic and investigative culture"
        case .macroCommunityEngagement: "Macro-community engagement"
        }
    }
}

/// The three ways learning-centred leaders influence outcomes (Hallinger and Heck,
/// 1999, pp. 4–5, as cited in the course reading *Distributed leadership*).
public enum Influence: String, VocabularyTerm {
    /// "Leaders' actions directly influence school outcomes."
    case direct
    /// "Leaders affect outcomes indirectly through other variables": the largest and
    /// most common effects (Leithwood and Riehl, 2003).
    case indirect
    /// "The leader or leaders affect teachers and teachers affect the leaders."
    case reciprocal

    /// A human English name.
    public var displayName: String {
        switch self {
        case .direct: "Direct"
        case .indirect: "Indirect"
        case .reciprocal: "Reciprocal"
        }
    }
}

/// Where a partnership places itself on Hargreaves and Fink's continuum of distributed
/// leadership (Hargreaves and Fink, 2006, *Sustainable Leadership*, the "Breadth"
/// chapter). Declared in continuum order, from the least to the most distributed.
///
/// The course reading cites the continuum ("each pattern of distribution has strengths
/// and weaknesses depending on the school context") but its diagram, "A continuum of
/// distributed leadership", is not in the text: the names are those commonly cited for
/// the book and should be checked against it.
public enum ContinuumPosition: String, VocabularyTerm, Comparable {
    /// One end of the continuum: leadership held by one person.
    case autocracy
    /// Traditional delegation.
    case traditionalDelegation = "traditional-delegation"
    /// Progressive delegation.
    case progressiveDelegation = "progressive-delegation"
    /// Guided distribution.
    case guidedDistribution = "guided-distribution"
    /// Emergent distribution.
    case emergentDistribution = "emergent-distribution"
    /// Assertive distribution.
    case assertiveDistribution = "assertive-distribution"
    /// The other end of the continuum: leadership dispersed with no shared direction.
    case anarchy

    /// A human English name.
    public var displayName: String {
        switch self {
        case .autocracy: "Autocracy"
        case .traditionalDelegation: "Traditional delegation"
        case .progressiveDelegation: "Progressive delegation"
        case .guidedDistribution: "Guided distribution"
        case .emergentDistribution: "Emergent distribution"
        case .assertiveDistribution: "Assertive distribution"
        case .anarchy: "Anarchy"
        }
    }

    /// Continuum order: from autocracy to anarchy.
    public static func < (lhs: ContinuumPosition, rhs: ContinuumPosition) -> Bool { lhs.ordinal < rhs.ordinal }
}
