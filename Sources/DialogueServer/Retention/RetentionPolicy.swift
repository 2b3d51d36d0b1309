import DialogueModel
import Foundation

/// How long a space keeps its records (issue 13 item 2; docs/PRIVACY.md, "Retention"), set
/// by an operator with `dialogue-server admin retention set`. A space has none unless one
/// is set; a period left `nil` keeps that series for ever.
public struct RetentionPolicy: Codable, Sendable, Equatable {
    /// Closed sessions go this many years after their date (`scheduledAt`).
    public var closedSessionsYears: Int?
    /// Insights and actions go this many years after the date of their session.
    public var insightsAndActionsYears: Int?

    public init(closedSessionsYears: Int? = nil, insightsAndActionsYears: Int? = nil) {
        self.closedSessionsYears = closedSessionsYears
        self.insightsAndActionsYears = insightsAndActionsYears
    }

    /// Whether the policy sets no period at all (it is then removed, not stored).
    public var isEmpty: Bool { closedSessionsYears == nil && insightsAndActionsYears == nil }

    /// What makes the policy unusable, if anything: a period must be 1 to 100 years.
    public var problem: String? {
        for (name, years) in [("closed sessions", closedSessionsYears), ("insights and actions", insightsAndActionsYears)] {
            if let years, !(1...100).contains(years) { return "the period for \(name) must be 1 to 100 years, not \(years)" }
        }
        return nil
    }
}

/// A space's policy as stored.
public struct RetentionPolicyRecord: Codable, Sendable, Equatable {
    public var space: SpaceID
    public var policy: RetentionPolicy
    /// When it was set, milliseconds since 1970.
    public var setAt: Int64

    public init(space: SpaceID, policy: RetentionPolicy, setAt: Int64) {
        self.space = space
        self.policy = policy
        self.setAt = setAt
    }
}
