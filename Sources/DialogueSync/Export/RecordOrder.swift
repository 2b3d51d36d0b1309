import DialogueModel
import Foundation

extension Replica {
    /// `record` in the order people read it: insights in capture order (the clock of each
    /// one's original creation; an insight with no creation held last, by id), participants
    /// by name (case-insensitive, then id).
    ///
    /// ``Replica/session(_:)`` answers from the materialised tables, which know neither; the
    /// minutes, the exports and ``sessionRecords(in:from:to:)`` give records in this order.
    /// Both keys are the same on every replica holding the same changes, so exports stay
    /// byte-stable across replicas. `names` are read from the replica when `nil` (a caller
    /// ordering many records reads them once).
    public func ordered(_ record: SessionRecord, names: AuthorNames? = nil) -> SessionRecord {
        var record = record
        let space = record.session.space
        let creations = originalCreations(of: record.insights.map(\.id))
        let names = names ?? (try? authorNames())
        record.insights = record.insights.map { insight in
            (insight, creations[insight.id]?.first?.timestamp)
        }.sorted { a, b in
            switch (a.1, b.1) {
            case (let x?, let y?) where x != y: return x < y
            case (nil, _?): return false
            case (_?, nil): return true
            default: return a.0.id < b.0.id
            }
        }.map(\.0)
        let shown = displayNames(of: record.participants, in: space, names: names)
        record.participants = record.participants.map { ($0, (shown[$0] ?? $0.description).lowercased()) }
            .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0)
        return record
    }
}
