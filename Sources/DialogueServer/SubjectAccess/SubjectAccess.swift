import DialogueModel
import Foundation

/// Subject access (UK GDPR, issue 13): everything the server holds about one person,
/// across every space it holds. `dialogue-server admin subject-access` prints it.
///
/// Authorship is derived from the writing device, never from what a change claims
/// (docs/TRUST.md, "Authorship"): a change is the member's when its replica is a device
/// registered for them. Changes the server accepted before signing are theirs the same way
/// when their device registered since (marked `unsignedLegacy`); changes of devices nobody
/// registered cannot be attributed and are counted per space, without content.
public enum SubjectAccess {
    /// How many changes one read of a space's log asks the store for.
    static let pageSize = 10_000

    /// Gathers the report about member `id` from `store`: one pass over each space's log.
    ///
    /// - Throws: ``SubjectAccessError/memberNotFound(_:)`` when no member has that id;
    ///   store errors as they come.
    public static func gather(member id: UUID, store: any SyncStore, now: Date = Date()) async throws -> SubjectAccessReport {
        let members = try await store.members()
        guard let member = members.first(where: { $0.id == id }) else { throw SubjectAccessError.memberNotFound(id) }
        let schools = try await store.schools()
        let partnerships = try await store.partnerships()
        let allDevices = try await store.devices()
        let theirs = allDevices.filter { $0.device.member == id }
        let theirReplicas = Set(theirs.map(\.device.replica))
        let registered = Set(allDevices.map(\.device.replica))

        var spaces = schools.map { HeldSpace(space: $0.privateSpace, name: $0.name, kind: "private", owner: EntityID($0.id)) }
        spaces += partnerships.map { HeldSpace(space: $0.sharedSpace, name: $0.name, kind: "shared", owner: EntityID($0.id)) }
        // Their own personal space, and nobody else's: a member shares theirs with no one,
        // the operator included, even where it names this person (docs/PRIVACY.md).
        let personalSpaces = try await store.personalSpaces()
        if let personal = personalSpaces[id] {
            spaces.append(HeldSpace(space: personal, name: PersonalSpace.name(of: member.name), kind: "personal", owner: EntityID(id)))
        }
        spaces.sort { ($0.name, $0.space) < ($1.name, $1.space) }
        let legacy = try await store.legacyVectors(of: spaces.map(\.space))

        var accountNames: [EntityID: SubjectAccessReport.Reference] = [:]
        for account in members {
            accountNames[EntityID(account.id)] = .init(id: EntityID(account.id), kind: "memberAccount", name: account.name)
        }
        for school in schools {
            accountNames[EntityID(school.id)] = .init(id: EntityID(school.id), kind: "schoolAccount", name: school.name)
        }
        for partnership in partnerships {
            accountNames[EntityID(partnership.id)] = .init(id: EntityID(partnership.id), kind: "partnershipAccount", name: partnership.name)
        }

        var sections: [SubjectAccessReport.SpaceSection] = []
        var vectors: [SpaceID: VersionVector] = [:]
        var references = References(accounts: accountNames)
        var gaps: [SubjectAccessReport.Gap] = []
        for held in spaces {
            let log = try await readLog(of: held.space, store: store)
            vectors[held.space] = log.held
            var findings = SpaceFindings(
                space: held, subject: EntityID(id), devices: theirReplicas, registered: registered,
                legacy: legacy[held.space] ?? VersionVector(), held: log.held, log: log)
            sections.append(findings.section())
            references.collect(from: findings)
            if log.unreadable > 0 {
                gaps.append(
                    .init(
                        code: "unreadable_changes", space: held.space,
                        detail: "\(log.unreadable) stored changes of \(held.name) could not be applied to the space's state; "
                            + "their content is not in this report (the server's log names them)"))
            }
            let unattributed = findings.unattributable
            if !unattributed.isEmpty {
                let count = unattributed.reduce(0) { $0 + $1.changes }
                gaps.append(
                    .init(
                        code: "unattributable_changes", space: held.space,
                        detail: "\(count) changes in \(held.name) from \(unattributed.count) device(s) nobody registered "
                            + "(written before signing) cannot be attributed to anyone: some may be this person's. "
                            + "They are listed under the space without their content."))
            }
        }

        var devices: [SubjectAccessReport.Device] = []
        for listing in theirs {
            let device = listing.device
            let last = spaces.compactMap { held -> SubjectAccessReport.SpaceCounter? in
                let counter = vectors[held.space]?[device.replica] ?? 0
                return counter > 0 ? .init(space: held.space, counter: counter) : nil
            }
            let kept: [SpaceID: UInt64] = device.revokedAt == nil ? [:] : try await store.revokedCounters(of: device.replica)
            devices.append(
                .init(
                    replica: device.replica,
                    fingerprint: PublicSigningKey(rawRepresentation: device.publicKey)?.fingerprint ?? "(damaged key)",
                    token: EntityID(device.token), tokenLabel: listing.tokenLabel, registeredAt: device.registeredAt,
                    revokedAt: device.revokedAt,
                    lastCounters: last,
                    keptAtRevocation: kept.map { SubjectAccessReport.SpaceCounter(space: $0.key, counter: $0.value) }.sorted {
                        $0.space < $1.space
                    }))
            if last.isEmpty {
                gaps.append(
                    .init(
                        code: "device_never_synced", device: device.replica,
                        detail: "device \(device.replica) (token '\(listing.tokenLabel)') is registered but the server holds "
                            + "no change from it: whatever it holds is on the device only"))
            }
        }
        gaps.append(
            .init(
                code: "unsynced_local_edits",
                detail: "edits made on a device of theirs and not synced yet are on that device only: the server cannot see "
                    + "them (sync each device first, or export from the device with dialogue-client)"))
        let others = personalSpaces.keys.filter { $0 != id }.count
        if others > 0 {
            gaps.append(
                .init(
                    code: "personal_spaces_of_others",
                    detail: "the personal spaces of \(others) other member(s) were not searched: each member's personal reflection "
                        + "is shared with nobody, the server's operator included; what they wrote there about this person is "
                        + "reached only through them (their own subject access, or an export from their device)"))
        }
        gaps.append(
            .init(
                code: "spaces_not_held",
                detail: "only the \(spaces.count) spaces listed were searched: spaces of other servers, bundle files "
                    + "passed between devices and backups are not"))

        let school = schools.first { $0.id == member.school }
        return SubjectAccessReport(
            formatVersion: SubjectAccessReport.currentFormatVersion, generatedAt: Int64((now.timeIntervalSince1970 * 1000).rounded()),
            subject: .init(
                id: EntityID(member.id), name: member.name, access: member.access, school: EntityID(member.school), schoolName: school?.name
            ),
            tokens: try await store.tokens(ofMember: id).map(SubjectAccessReport.Token.init), devices: devices, spaces: sections,
            cannotSee: gaps,
            references: references.sorted)
    }

    /// A space the server holds, as its accounts name it.
    struct HeldSpace {
        var space: SpaceID
        var name: String
        var kind: String
        var owner: EntityID
    }

    /// A space's stored changes (in storage order, a causal order), its state built from
    /// them, and how many could not be applied.
    struct Log {
        var changes: [Change] = []
        var document: SpaceDocument
        var held = VersionVector()
        var unreadable = 0
    }

    /// Reads every change of `space`, a page at a time, and builds its state as the sync
    /// service does (``SpaceDocuments``).
    static func readLog(of space: SpaceID, store: any SyncStore) async throws -> Log {
        var log = Log(document: SpaceDocument(space: space))
        var cursor: Int64 = 0
        while true {
            let page = try await store.changes(in: space, missingFrom: VersionVector(), after: cursor, limit: pageSize)
            for change in page.changes {
                do { try log.document.replay(CollectionOfOne(change)) } catch { log.unreadable += 1 }
                log.held.record(Dot(change.replica, change.lastCounter))
            }
            log.changes += page.changes
            cursor = page.cursor
            if !page.more { break }
        }
        return log
    }
}

/// The names of the ids a report's values refer to.
struct References {
    private let accounts: [EntityID: SubjectAccessReport.Reference]
    private var found: [EntityID: SubjectAccessReport.Reference] = [:]

    init(accounts: [EntityID: SubjectAccessReport.Reference]) {
        self.accounts = accounts
    }

    /// Names the ids `findings`' values refer to: from the space's state when it names the
    /// entity, else from the server's accounts.
    mutating func collect(from findings: SpaceFindings) {
        for id in findings.referencedIDs where found[id] == nil {
            if let kind = findings.document.kind(of: id), let title = EntityTitle.of(id, in: findings.document) {
                found[id] = .init(id: id, kind: kind, name: title)
            } else if let account = accounts[id] {
                found[id] = account
            }
        }
    }

    var sorted: [SubjectAccessReport.Reference] { found.values.sorted { $0.id < $1.id } }
}
