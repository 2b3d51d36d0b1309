import DialogueModel
import Foundation

/// A record a retention policy says must go.
public struct RetentionCandidate: Codable, Sendable, Equatable {
    public var space: SpaceID
    public var entity: EntityID
    /// `session`, `insight` or `action`.
    public var kind: String
    /// The session it belongs to (itself for a session), its title and date.
    public var session: EntityID
    public var sessionTitle: String?
    /// Milliseconds since 1970.
    public var sessionDate: Int64
    /// When the policy's period ended (milliseconds since 1970).
    public var dueAt: Int64
}

/// Which records of a space a policy says must go (pure: a document, a policy and a time
/// in, the records out). Dates are calendar years in UTC: a record dated 14 March 2019
/// kept 6 years goes from 14 March 2025. Records already deleted (hidden, content kept)
/// go too; erased ones are gone already. A session with no date is never due, nor are the
/// insights and actions of one: nothing says when its clock starts.
public enum RetentionSchedule {
    public static func due(in document: SpaceDocument, policy: RetentionPolicy, asOf: Int64) -> [RetentionCandidate] {
        var due: [RetentionCandidate] = []
        let entities = document.entities
        func kind(_ id: EntityID) -> String? { document.isErased(id) ? nil : entities[id]?.kind.value }
        func date(ofSession id: EntityID) -> Int64? {
            guard kind(id) == EntityKind.session.rawValue,
                case .timestamp(let ms)? = document.value(DialogueSession.Field.scheduledAt, of: id)
            else { return nil }
            return ms
        }
        func reference(_ field: String, of id: EntityID) -> EntityID? {
            if case .reference(let target)? = document.value(field, of: id) { return target }
            return nil
        }
        func candidate(_ id: EntityID, kind: String, session: EntityID, date: Int64, years: Int) -> RetentionCandidate? {
            let end = adding(years: years, to: date)
            guard end <= asOf else { return nil }
            var title: String?
            if case .string(let text)? = document.value(DialogueSession.Field.title, of: session) { title = text }
            return RetentionCandidate(
                space: document.space, entity: id, kind: kind, session: session, sessionTitle: title, sessionDate: date, dueAt: end)
        }
        for id in entities.keys.sorted() {
            switch kind(id) {
            case EntityKind.session.rawValue?:
                guard let years = policy.closedSessionsYears, document.value(DialogueSession.Field.status, of: id) == .string("closed"),
                    let date = date(ofSession: id)
                else { continue }
                if let found = candidate(id, kind: "session", session: id, date: date, years: years) { due.append(found) }
            case EntityKind.insight.rawValue?:
                guard let years = policy.insightsAndActionsYears, let session = reference(Insight.Field.session, of: id),
                    let date = date(ofSession: session)
                else { continue }
                if let found = candidate(id, kind: "insight", session: session, date: date, years: years) { due.append(found) }
            case EntityKind.action.rawValue?:
                guard let years = policy.insightsAndActionsYears,
                    let session = reference(Action.Field.session, of: id)
                        ?? reference(Action.Field.insight, of: id).flatMap({ reference(Insight.Field.session, of: $0) }),
                    let date = date(ofSession: session)
                else { continue }
                if let found = candidate(id, kind: "action", session: session, date: date, years: years) { due.append(found) }
            default: continue
            }
        }
        return due
    }

    /// `milliseconds` plus `years` calendar years, in UTC.
    static func adding(years: Int, to milliseconds: Int64) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        guard let end = calendar.date(byAdding: .year, value: years, to: start) else { return .max }
        return Int64((end.timeIntervalSince1970 * 1000).rounded())
    }
}
