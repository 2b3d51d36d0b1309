import DialogueModel
import Foundation

/// What one space's log and state hold about the member: their record, where they are
/// named, what their devices wrote (with the edit history), and the changes nobody can be
/// told to have written. Pure: built from the log read by ``SubjectAccess``.
struct SpaceFindings {
    let space: SubjectAccess.HeldSpace
    let subject: EntityID
    /// The member's devices.
    let devices: Set<ReplicaID>
    let document: SpaceDocument
    private let changes: [Change]
    private let unreadable: Int
    /// `[1...legacy counter]` of each device the space's legacy vector names.
    private let legacyRanges: [ReplicaID: [ClosedRange<UInt64>]]
    /// Every change stored was verified up to here (or accepted as legacy).
    private let signedUpTo: [ReplicaID: UInt64]
    private let registered: Set<ReplicaID>
    /// Ids the section's values refer to, filled by ``section()``.
    private(set) var referencedIDs: Set<EntityID> = []
    /// Changes of unregistered devices, filled by ``section()``.
    private(set) var unattributable: [SubjectAccessReport.UnattributedDevice] = []

    init(
        space: SubjectAccess.HeldSpace, subject: EntityID, devices: Set<ReplicaID>, registered: Set<ReplicaID>, legacy: VersionVector,
        held: VersionVector, log: SubjectAccess.Log
    ) {
        self.space = space
        self.subject = subject
        self.devices = devices
        self.registered = registered
        document = log.document
        changes = log.changes
        unreadable = log.unreadable
        legacyRanges = legacy.counters.mapValues { [1...$0] }
        signedUpTo = held.counters
    }

    /// The space's section of the report.
    mutating func section() -> SubjectAccessReport.SpaceSection {
        let entities = document.entities
        let written = wrote(entities)
        unattributable = unattributed()
        return SubjectAccessReport.SpaceSection(
            space: space.space, name: space.name, kind: space.kind, owner: space.owner, changesHeld: changes.count,
            changesByMember: changes.reduce(0) { $0 + (devices.contains($1.replica) ? 1 : 0) }, memberRecord: memberRecord(),
            named: named(entities), wrote: written, unattributable: unattributable)
    }

    // MARK: Their record

    private mutating func memberRecord() -> SubjectAccessReport.MemberRecord? {
        guard let member = Member(subject, in: document) else { return nil }
        if let school = member.homeSchool { referencedIDs.insert(school) }
        return .init(
            displayName: member.displayName, role: member.role?.rawValue, homeSchool: member.homeSchool,
            deleted: document.isDeleted(subject))
    }

    // MARK: Where they are named

    /// Every reference field of every entity (deleted ones too: their content is held)
    /// whose value names the member, the member's own entity aside.
    private func named(_ entities: [EntityID: EntityLifecycle]) -> [SubjectAccessReport.Naming] {
        let me = FieldValue.reference(subject)
        var found: [SubjectAccessReport.Naming] = []
        for entity in entities.keys.sorted() where entity != subject {
            guard let kindName = document.kind(of: entity), let kind = EntityKind(rawValue: kindName) else { continue }
            for field in kind.fields where field.rule == .reference {
                let names: Bool
                switch field.type {
                case .register: names = document.value(field.name, of: entity) == me
                case .set: names = document.members(field.name, of: entity).contains(me)
                case .list: names = document.items(field.name, of: entity).contains { $0.value == me }
                case .text, .lifecycle: names = false
                }
                guard names else { continue }
                found.append(
                    .init(
                        entity: entity, kind: kindName, title: EntityTitle.of(entity, in: document), field: field.name,
                        role: Self.role(kind, field.name), deleted: document.isDeleted(entity)))
            }
        }
        return found
    }

    /// How a report says what naming them in `field` of a `kind` makes them.
    static func role(_ kind: EntityKind, _ field: String) -> String {
        switch (kind, field) {
        case (.session, DialogueSession.Field.facilitator): "facilitator"
        case (.session, DialogueSession.Field.participants): "participant"
        case (.action, Action.Field.owner): "owner"
        case (.insight, Insight.Field.author): "author"
        case (.space, Space.Field.members): "spaceMember"
        default: "reference"
        }
    }

    // MARK: What they wrote

    private mutating func wrote(_ entities: [EntityID: EntityLifecycle]) -> [SubjectAccessReport.WrittenEntity] {
        var mine: [EntityID: [Change]] = [:]
        for change in changes where devices.contains(change.replica) { mine[change.entity, default: []].append(change) }
        // Anyone's insertions into those entities: an edit of theirs may delete another's text.
        var describers: [EntityID: EditDescriber] = [:]
        for change in changes where mine[change.entity] != nil { describers[change.entity, default: EditDescriber()].record(change) }
        return mine.keys.sorted().map { entity in
            let edits = mine[entity]!.sorted { ($0.timestamp, $0.replica, $0.id.counter) < ($1.timestamp, $1.replica, $1.id.counter) }
            let describer = describers[entity] ?? EditDescriber()
            let kind = document.kind(of: entity)
            return SubjectAccessReport.WrittenEntity(
                entity: entity, kind: kind, title: EntityTitle.of(entity, in: document),
                created: edits.contains { if case .create = $0.operation { true } else { false } }, deleted: document.isDeleted(entity),
                standing: standing(entity, kind: kind.flatMap(EntityKind.init(rawValue:)), edits: edits),
                edits: edits.map { change in
                    SubjectAccessReport.Edit(
                        field: Self.isLifecycle(change) ? "" : change.field, edit: describer.describe(change),
                        at: Int64(clamping: change.timestamp.wallTime), device: change.replica, counter: change.id.counter,
                        signing: HistorySigning.classify(change, signedUpTo: signedUpTo, legacy: legacyRanges))
                })
        }
    }

    /// What of the entity's current content their devices wrote, field by field in the
    /// kind's declaration order.
    private mutating func standing(_ entity: EntityID, kind: EntityKind?, edits: [Change]) -> [SubjectAccessReport.StandingValue] {
        guard let kind else { return [] }
        var values: [SubjectAccessReport.StandingValue] = []
        for field in kind.fields {
            switch field.type {
            case .register:
                if let winner = document.register(field.name, of: entity)?.winner, devices.contains(winner.dot.replica) {
                    values.append(.init(field: field.name, value: winner.value))
                }
            case .set:
                let present = Set(document.members(field.name, of: entity))
                var added: [FieldValue] = []
                for change in edits where change.field == field.name {
                    if case .add(let value) = change.operation, present.contains(value), !added.contains(value) { added.append(value) }
                }
                values += added.sorted().map { .init(field: field.name, value: $0) }
            case .list:
                values += document.items(field.name, of: entity).filter { devices.contains($0.id.replica) }.map {
                    .init(field: field.name, value: $0.value)
                }
            case .text:
                values += passages(of: document.textSequence(field.name, of: entity)).map { .init(field: field.name, text: $0) }
            case .lifecycle: break
            }
        }
        for value in values { if case .reference(let id)? = value.value { referencedIDs.insert(id) } }
        return values
    }

    /// The runs of visible text their devices typed, in text order.
    private func passages(of text: TextSequence?) -> [String] {
        guard let text else { return [] }
        var passages: [String] = []
        var current = String.UnicodeScalarView()
        for (dot, scalar) in text.elementsWithDots {
            if devices.contains(dot.replica) {
                current.append(scalar)
            } else if !current.isEmpty {
                passages.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { passages.append(String(current)) }
        return passages
    }

    private static func isLifecycle(_ change: Change) -> Bool {
        switch change.operation {
        case .create, .delete: true
        default: false
        }
    }

    // MARK: Nobody's

    /// Changes of devices nobody registered, per device.
    private func unattributed() -> [SubjectAccessReport.UnattributedDevice] {
        var byDevice: [ReplicaID: (changes: Int, entities: Set<EntityID>, first: UInt64, last: UInt64)] = [:]
        for change in changes where !registered.contains(change.replica) {
            let time = change.timestamp.wallTime
            var entry = byDevice[change.replica] ?? (0, [], time, time)
            entry.changes += 1
            entry.entities.insert(change.entity)
            entry.first = min(entry.first, time)
            entry.last = max(entry.last, time)
            byDevice[change.replica] = entry
        }
        return byDevice.keys.sorted().map { replica in
            let entry = byDevice[replica]!
            return .init(
                replica: replica, changes: entry.changes, entities: entry.entities.count, firstAt: Int64(clamping: entry.first),
                lastAt: Int64(clamping: entry.last))
        }
    }
}

/// What a report calls an entity: a session's title, an insight's or prompt's text (an
/// excerpt), an action's description, a member's display name, a school's or
/// partnership's name.
enum EntityTitle {
    static func of(_ entity: EntityID, in document: SpaceDocument) -> String? {
        guard let kind = document.kind(of: entity).flatMap(EntityKind.init(rawValue:)) else { return nil }
        let title: String? =
            switch kind {
            case .session: document.value(DialogueSession.Field.title, of: entity)?.stringValue
            case .insight: document.text(Insight.Field.text, of: entity)
            case .action: document.value(Action.Field.description, of: entity)?.stringValue
            case .prompt: document.value(Prompt.Field.text, of: entity)?.stringValue
            case .member: document.value(Member.Field.displayName, of: entity)?.stringValue
            case .school: document.value(School.Field.name, of: entity)?.stringValue
            case .partnership: document.value(Partnership.Field.name, of: entity)?.stringValue
            case .space: nil
            }
        guard let title, !title.isEmpty else { return nil }
        return HistoryEditKind.excerpt(title.unicodeScalars)
    }
}
