import DialogueModel
import Foundation

/// What arrived from other devices in a sync: the sessions, insights and actions new to
/// this replica, per author (``Replica/arrivals(since:)``).
///
/// An entity counts when its creation arrived and it is live now (one created and deleted
/// elsewhere before it arrived is not new here); its author is the device that created it,
/// named by its certificate (docs/TRUST.md, "Authorship"). What this device wrote never counts.
public struct SyncArrivals: Sendable, Hashable, Encodable {
    /// What one person (their devices together) or one unverified device brought.
    public struct ByAuthor: Sendable, Hashable, Encodable {
        /// Who: a certified member, or an unverified device.
        public var author: DeviceAuthor
        /// ``DeviceAuthor/description``.
        public var name: String
        /// New sessions they created.
        public var sessions: Int
        /// New insights they captured.
        public var insights: Int
        /// New actions they added.
        public var actions: Int

        /// Creates a count from its parts.
        public init(author: DeviceAuthor, name: String, sessions: Int, insights: Int, actions: Int) {
            self.author = author
            self.name = name
            self.sessions = sessions
            self.insights = insights
            self.actions = actions
        }

        /// Everything they brought.
        public var total: Int { sessions + insights + actions }
    }

    /// New sessions.
    public var sessions: Int
    /// New insights.
    public var insights: Int
    /// New actions.
    public var actions: Int
    /// Per author, most first, then by name, then device.
    public var authors: [ByAuthor]

    /// Creates arrivals from their parts.
    public init(sessions: Int = 0, insights: Int = 0, actions: Int = 0, authors: [ByAuthor] = []) {
        self.sessions = sessions
        self.insights = insights
        self.actions = actions
        self.authors = authors
    }

    /// Whether nothing new arrived.
    public var isEmpty: Bool { sessions + insights + actions == 0 }

    /// "1 session, 2 insights, 0 actions".
    public static func counts(sessions: Int, insights: Int, actions: Int) -> String {
        func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
        return [plural(sessions, "session"), plural(insights, "insight"), plural(actions, "action")].joined(separator: ", ")
    }
}

extension SyncClient {
    /// Syncs as ``sync(_:spaces:progress:)`` does, and says what arrived: the vectors the
    /// replica held before, then ``Replica/arrivals(since:)`` over the spaces synced (a space
    /// first held during the sync counts from nothing).
    public func syncReportingArrivals(
        _ replica: Replica, spaces: [SpaceID]? = nil, progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws(SyncClientError) -> (summary: Summary, arrivals: SyncArrivals) {
        let before: [SpaceID: VersionVector]
        do { before = try replica.heldVectors() } catch { throw .local(error) }
        let summary = try await sync(replica, spaces: spaces, progress: progress)
        var since: [SpaceID: VersionVector] = [:]
        for space in summary.spaces { since[space] = before[space] ?? VersionVector() }
        do { return (summary, try await replica.arrivals(since: since)) } catch { throw .local(error) }
    }
}

extension Replica {
    /// What arrived from other devices since this replica held `before` (per space: what it
    /// held when a sync started, as ``SyncClient/syncReportingArrivals(_:spaces:progress:)`` reads them): the live sessions,
    /// insights and actions whose creation is in the log past those vectors, per author.
    /// Spaces not in `before` are not looked at.
    public func arrivals(since before: [SpaceID: VersionVector]) throws(ReplicaError) -> SyncArrivals {
        let names = try authorNames()
        let counted: Set<String> = [EntityKind.session.rawValue, EntityKind.insight.rawValue, EntityKind.action.rawValue]
        // Per entity, the device whose creation of it arrived first in the log.
        var created: [(entity: EntityID, kind: String, device: ReplicaID)] = []
        var seen: Set<EntityID> = []
        for (space, vector) in before.sorted(by: { $0.key < $1.key }) {
            guard let document = document(space) else { continue }
            var cursor: ChangeCursor? = .start
            while let current = cursor {
                let page = try changes(in: space, missingFrom: vector, after: current, limit: 1000)
                for change in page.changes where change.replica != id {
                    guard case .create(let kind, _) = change.operation, counted.contains(kind),
                        document.liveKind(of: change.entity) == kind, seen.insert(change.entity).inserted
                    else { continue }
                    created.append((change.entity, kind, change.replica))
                }
                cursor = page.next
            }
        }
        var arrivals = SyncArrivals()
        var byPerson: [String: SyncArrivals.ByAuthor] = [:]
        for entry in created {
            let author = names.author(of: entry.device)
            let key = author.member.map { "member \($0.id)" } ?? "device \(author.device)"
            var row = byPerson[key] ?? .init(author: author, name: author.description, sessions: 0, insights: 0, actions: 0)
            switch entry.kind {
            case EntityKind.session.rawValue: (row.sessions, arrivals.sessions) = (row.sessions + 1, arrivals.sessions + 1)
            case EntityKind.insight.rawValue: (row.insights, arrivals.insights) = (row.insights + 1, arrivals.insights + 1)
            default: (row.actions, arrivals.actions) = (row.actions + 1, arrivals.actions + 1)
            }
            byPerson[key] = row
        }
        arrivals.authors = byPerson.values.sorted { ($1.total, $0.name, $0.author.device) < ($0.total, $1.name, $1.author.device) }
        return arrivals
    }
}
