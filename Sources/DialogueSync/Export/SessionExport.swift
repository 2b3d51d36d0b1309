import DialogueModel
import Foundation

/// A session record as the JSON export gives it: ``SessionRecord``'s parts, each insight's
/// author the certified member of the device that created it (``DeviceAuthor``), never a
/// claimed member id.
///
/// JSON (``ExportText/json(_:)``): `{"session", "participants", "agenda", "summary",
/// "insights", "actions"}`, keys sorted.
public struct SessionExport: Sendable, Hashable, Encodable {
    /// The session's registers.
    public var session: SessionSummary
    /// The participating members, by name (``Replica/ordered(_:names:)``).
    public var participants: [EntityID]
    /// The agenda, in order.
    public var agenda: [AgendaEntry]
    /// The shared summary text.
    public var summary: String
    /// The insights, in capture order (``Replica/ordered(_:names:)``), with their authors.
    public var insights: [InsightExport]
    /// The follow-up actions.
    public var actions: [ActionRecord]

    /// `record` with its insights' authors from `authors` (``Replica/insightAuthors(of:names:)``).
    public init(_ record: SessionRecord, authors: [EntityID: EntityAuthorship]) {
        session = record.session
        participants = record.participants
        agenda = record.agenda
        summary = record.summary
        insights = record.insights.map { InsightExport($0, authorship: authors[$0.id]) }
        actions = record.actions
    }
}

/// An insight as exported: ``InsightRecord``'s fields, its `author` the certified member
/// of the device that created it, or every claimant in `disputedAuthors`.
public struct InsightExport: Sendable, Hashable, Encodable {
    /// The insight entity.
    public var id: EntityID
    /// The space that holds it.
    public var space: SpaceID
    /// The session it was captured in.
    public var session: EntityID?
    /// The prompt it answers; `nil` when free-standing.
    public var prompt: EntityID?
    /// Who wrote it (absent when disputed or when no creation is held).
    public var author: DeviceAuthor?
    /// Every claimant when the authorship is disputed (then `author` is absent).
    public var disputedAuthors: [DeviceAuthor]?
    /// What it is.
    public var kind: InsightKind?
    /// Where the evidence comes from.
    public var evidenceSource: String?
    /// The kind of influence it describes.
    public var influence: Influence?
    /// The hallmark tags as stored, as ``InsightRecord/hallmarks`` orders them.
    public var hallmarks: [String]
    /// The insight's text.
    public var text: String
    /// The fields holding a value their rule refuses (see ``InsightRecord/invalidFields``).
    public var invalidFields: [String]?

    /// `insight` with its authorship.
    public init(_ insight: InsightRecord, authorship: EntityAuthorship?) {
        (id, space, session, prompt, author) = (insight.id, insight.space, insight.session, insight.prompt, authorship?.author)
        if case .disputed(let claimants) = authorship { disputedAuthors = claimants }
        (kind, evidenceSource, influence, hallmarks) = (insight.kind, insight.evidenceSource, insight.influence, insight.hallmarks)
        (text, invalidFields) = (insight.text, insight.invalidFields)
    }
}

/// A prompt as the space export lists it.
public struct PromptExport: Sendable, Hashable, Encodable {
    /// The prompt entity.
    public var id: EntityID
    /// Its text.
    public var text: String?
    /// Its theme.
    public var theme: String?
    /// Where it comes from.
    public var source: String?

    /// Creates a prompt entry from its parts.
    public init(id: EntityID, text: String?, theme: String?, source: String?) {
        (self.id, self.text, self.theme, self.source) = (id, text, theme, source)
    }
}

/// A whole space as the JSON export gives it: `{space, spaceName, sessions: [record…], prompts: […]}`.
public struct SpaceExport: Sendable, Hashable, Encodable {
    /// The space.
    public var space: SpaceID
    /// The space's name in the verified directory (left out when not listed).
    public var spaceName: String?
    /// Every live session, by date then id.
    public var sessions: [SessionExport]
    /// Every live prompt of the space, by id.
    public var prompts: [PromptExport]

    /// Creates a space export from its parts.
    public init(space: SpaceID, spaceName: String?, sessions: [SessionExport], prompts: [PromptExport]) {
        (self.space, self.spaceName, self.sessions, self.prompts) = (space, spaceName, sessions, prompts)
    }
}

extension Replica {
    /// Who wrote each insight of `records`: the member certified for the device that created
    /// it (docs/TRUST.md, "Authorship"), an unverified device, or the claimants when its
    /// authorship is disputed; never what a change claims.
    /// `names` are read from the replica when `nil`.
    public func insightAuthors(
        of records: [SessionRecord], names given: AuthorNames? = nil
    ) throws(ReplicaError) -> [EntityID: EntityAuthorship] {
        let names: AuthorNames
        if let given { names = given } else { names = try authorNames() }
        var authors: [EntityID: EntityAuthorship] = [:]
        for insight in records.flatMap(\.insights) {
            authors[insight.id] = authorship(ofEntity: insight.id, names: names)
        }
        return authors
    }

    /// The full records of a space's live sessions, by date then id, each ``ordered(_:names:)``.
    public func sessionRecords(in space: SpaceID, from: Int64? = nil, to: Int64? = nil) throws(ReplicaError) -> [SessionRecord] {
        var records: [SessionRecord] = []
        let names = try authorNames()
        for summary in try sessions(in: space, from: from, to: to) {
            if let record = try session(summary.id) { records.append(ordered(record, names: names)) }
        }
        return records
    }

    /// A session as the JSON export gives it.
    public func sessionExport(_ record: SessionRecord) throws(ReplicaError) -> SessionExport {
        let names = try authorNames()
        let record = ordered(record, names: names)
        return SessionExport(record, authors: try insightAuthors(of: [record], names: names))
    }

    /// A whole space as the JSON export gives it: every live session's record and the
    /// space's prompts. Encoded with ``ExportText/json(_:)`` it is byte-stable.
    public func spaceExport(_ space: SpaceID) throws(ReplicaError) -> SpaceExport {
        let records = try sessionRecords(in: space)
        let authors = try insightAuthors(of: records)
        let prompts = try self.prompts(in: space)
        return SpaceExport(
            space: space, spaceName: try spaceNames().space(space).name, sessions: records.map { SessionExport($0, authors: authors) },
            prompts: prompts)
    }
}
