import DialogueModel
import DialogueSync
import DialogueTestSupport
import Foundation
import Testing

@testable import DialogueServer

/// A clock that always reads the same time (registrations and revocations at known times).
struct FixedWallClock: WallClock {
    var milliseconds: Int64
    func millisecondsSinceEpoch() -> UInt64 { UInt64(milliseconds) }
}

/// Issue 13's subject access scenario: two schools (Hill Primary, Vale Academy) in the North
/// Partnership. Ada Lovelace (Hill) wrote insights and a session's summary from two devices
/// (laptop, tablet), has a third device (phone) that never synced and a revoked token (old
/// phone); Ben Okafor (Vale) made a session she facilitates and joins and an action she owns,
/// and wrote an insight of his own; Cara Singh (Hill) recorded Ada's member record and a staff
/// meeting she joins, where Ada typed the summary. Every time is fixed, so the report is
/// known exactly.
struct SubjectAccessScenario: Sendable {
    /// 2026-01-05T08:00:00Z.
    static let start: Int64 = 1_767_600_000_000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000

    let partnership: PartnershipAccount
    let hill: SchoolAccount
    let vale: SchoolAccount
    let ada: MemberAccount
    let ben: MemberAccount
    let cara: MemberAccount
    /// Ada's tokens: laptop, tablet, phone, old phone (revoked).
    let tokens: [String: TokenListing]
    /// Devices by name: laptop, tablet, phone (Ada's), ben, cara.
    let devices: [String: ReplicaID]
    let fingerprints: [String: String]
    /// Entities by name: s1 (cross-school session), a1 (action), ib (Ben's insight), i1, i2
    /// (Ada's insights), s2 (staff meeting), hillSchool (the school entity).
    let entities: [String: EntityID]
    /// What each device pushed, by space.
    let pushed: [String: [Change]]
    /// Each member's personal space, by first name (ada, ben, cara): nothing is written there
    /// in the scenario itself (``PersonalSpaceAdminTests`` writes in them).
    let personal: [String: SpaceID]
    /// The device keys by device name, and the raw tokens by label, to write more as them.
    let signingKeys: [String: SigningKeyPair]
    let rawTokens: [String: String]

    /// Builds the scenario in `store` through the sync service, as devices would push it.
    static func build(in store: any SyncStore) async throws -> SubjectAccessScenario {
        let partnership = try await store.createPartnership(name: "North Partnership")
        var hill = try await store.createSchool(name: "Hill Primary")
        var vale = try await store.createSchool(name: "Vale Academy")
        try await store.addSchool(hill.id, toPartnership: partnership.id)
        try await store.addSchool(vale.id, toPartnership: partnership.id)
        hill.partnerships = [partnership.id]
        vale.partnerships = [partnership.id]
        let ada = try await store.createMember(name: "Ada Lovelace", school: hill.id, role: .member)
        let ben = try await store.createMember(name: "Ben Okafor", school: vale.id, role: .member)
        let cara = try await store.createMember(name: "Cara Singh", school: hill.id, role: .admin)

        // Tokens, issued a minute apart.
        var raw: [String: String] = [:]
        var listings: [String: TokenListing] = [:]
        let issued: [(String, MemberAccount)] = [
            ("laptop", ada), ("tablet", ada), ("phone", ada), ("old phone", ada), ("ben laptop", ben), ("cara laptop", cara),
        ]
        for (index, (label, member)) in issued.enumerated() {
            let (token, issuedRecord) = Tokens.issue(for: member.id, label: label)
            var record = issuedRecord
            record.issuedAt = Date(timeIntervalSince1970: Double(start + Int64(index) * minute) / 1000)
            try await store.storeToken(record)
            raw[label] = token
            listings[label] = TokenListing(id: record.id, label: label, issuedAt: start + Int64(index) * minute, revokedAt: nil)
        }
        let revokedAt = start + 8 * minute
        _ = try await ServerAuthority(store: store, wallClock: FixedWallClock(milliseconds: revokedAt)).revokeToken(
            id: listings["old phone"]!.id)
        listings["old phone"]!.revokedAt = revokedAt

        // Devices, registered a minute apart from ten minutes in.
        var signers: [String: ChangeSigner] = [:]
        var devices: [String: ReplicaID] = [:]
        var fingerprints: [String: String] = [:]
        for (index, (name, token)) in [
            ("laptop", "laptop"), ("tablet", "tablet"), ("phone", "phone"), ("ben", "ben laptop"), ("cara", "cara laptop"),
        ].enumerated() {
            let signer = ChangeSigner()
            let replica = ReplicaID.random()
            let access = try #require(try await store.token(forTokenHash: Tokens.hash(raw[token]!)))
            _ = try await ServerAuthority(store: store, wallClock: FixedWallClock(milliseconds: start + Int64(10 + index) * minute))
                .register(DeviceRegistrationRequest(replica: replica, publicKey: signer.key.publicKey), token: access)
            signers[name] = signer
            devices[name] = replica
            fingerprints[name] = signer.key.publicKey.fingerprint
        }

        let service = SyncService(
            store: store, wallClock: FixedWallClock(milliseconds: start + 24 * hour), logger: quietLogger("dialogue.test.subject-access"))
        var pushed: [String: [Change]] = [:]
        func push(_ changes: [Change], by device: String, token: String, in space: SpaceID) async throws {
            let heads = try signers[device]!.sign(changes)
            let found = try #require(try await store.access(forTokenHash: Tokens.hash(raw[token]!)))
            let response = try await service.sync(
                SignedPushTests.push(changes, heads: heads, space: space),
                access: SyncService.Access(member: found.member, spaces: found.spaces))
            #expect(response.spaces.first?.accepted == changes.count)
            pushed[device + "@" + space.description, default: []] += changes
        }

        let shared = partnership.sharedSpace
        let (s1, a1, ib, i1, i2, s2) = (
            EntityID(UUID()), EntityID(UUID()), EntityID(UUID()), EntityID(UUID()), EntityID(UUID()), EntityID(UUID())
        )
        let (adaRef, benRef) = (FieldValue.reference(EntityID(ada.id)), FieldValue.reference(EntityID(ben.id)))

        // Ben, an hour in: the cross-school session (Ada facilitates and joins), an action she
        // owns, his own insight, and the start of the session's summary.
        var benWriter = ScriptedWriter(devices["ben"]!, in: shared, from: start + hour)
        var benChanges = [benWriter.document.create(s1, kind: .session, by: benWriter.next())]
        benChanges.append(
            benWriter.document.set(DialogueSession.Field.title, of: s1, to: .string("Cross-school reading review"), by: benWriter.next()))
        benChanges.append(benWriter.document.set(DialogueSession.Field.facilitator, of: s1, to: adaRef, by: benWriter.next()))
        benChanges.append(benWriter.document.add(adaRef, toSet: DialogueSession.Field.participants, of: s1, by: benWriter.next())!)
        benChanges.append(benWriter.document.add(benRef, toSet: DialogueSession.Field.participants, of: s1, by: benWriter.next())!)
        benChanges.append(benWriter.document.create(a1, kind: .action, by: benWriter.next()))
        benChanges.append(
            benWriter.document.set(Action.Field.description, of: a1, to: .string("Share the reading plan"), by: benWriter.next()))
        benChanges.append(benWriter.document.set(Action.Field.owner, of: a1, to: adaRef, by: benWriter.next()))
        benChanges.append(benWriter.document.set(Action.Field.session, of: a1, to: .reference(s1), by: benWriter.next()))
        benChanges.append(benWriter.document.create(ib, kind: .insight, by: benWriter.next()))
        benChanges.append(benWriter.document.set(Insight.Field.author, of: ib, to: benRef, by: benWriter.next()))
        benChanges += try benWriter.document.editText(
            Insight.Field.text, of: ib, at: 0, insert: "Vale pupils read aloud daily", by: benWriter.next())
        benChanges += try benWriter.document.editText(
            DialogueSession.Field.summary, of: s1, at: 0, insert: "Visit notes. ", by: benWriter.next())
        try await push(benChanges, by: "ben", token: "ben laptop", in: shared)

        // Ada's laptop, two hours in: an insight in that session, and the summary's start.
        var laptop = ScriptedWriter(devices["laptop"]!, in: shared, from: start + 2 * hour)
        try laptop.document.apply(benChanges)
        var laptopChanges = [laptop.document.create(i1, kind: .insight, by: laptop.next())]
        laptopChanges.append(laptop.document.set(Insight.Field.session, of: i1, to: .reference(s1), by: laptop.next()))
        laptopChanges.append(laptop.document.set(Insight.Field.author, of: i1, to: adaRef, by: laptop.next()))
        laptopChanges += try laptop.document.editText(
            Insight.Field.text, of: i1, at: 0, insert: "Pupils explain their thinking", by: laptop.next())
        laptopChanges += try laptop.document.editText(
            DialogueSession.Field.summary, of: s1, at: 13, insert: "Agreed: peer visits", by: laptop.next())
        try await push(laptopChanges, by: "laptop", token: "laptop", in: shared)

        // Ada's tablet, three hours in: the summary's end, a second insight, "their " cut from
        // the first, and Ben's action marked done.
        var tablet = ScriptedWriter(devices["tablet"]!, in: shared, from: start + 3 * hour)
        try tablet.document.apply(benChanges + laptopChanges)
        var tabletChanges = try tablet.document.editText(
            DialogueSession.Field.summary, of: s1, at: 32, insert: " each term", by: tablet.next())
        tabletChanges.append(tablet.document.create(i2, kind: .insight, by: tablet.next()))
        tabletChanges.append(tablet.document.set(Insight.Field.author, of: i2, to: adaRef, by: tablet.next()))
        tabletChanges += try tablet.document.editText(
            Insight.Field.text, of: i2, at: 0, insert: "Feedback works when specific", by: tablet.next())
        tabletChanges += try tablet.document.editText(Insight.Field.text, of: i1, at: 15, delete: 6, by: tablet.next())
        tabletChanges.append(tablet.document.set(Action.Field.status, of: a1, to: ActionStatus.done, by: tablet.next()))
        try await push(tabletChanges, by: "tablet", token: "tablet", in: shared)

        // Cara, four hours in, in Hill's space: the school, Ada's member record, a staff meeting Ada joins.
        let hillSchool = EntityID(hill.id)
        var caraWriter = ScriptedWriter(devices["cara"]!, in: hill.privateSpace, from: start + 4 * hour)
        var caraChanges = [caraWriter.document.create(hillSchool, kind: .school, by: caraWriter.next())]
        caraChanges.append(caraWriter.document.set(School.Field.name, of: hillSchool, to: .string("Hill Primary"), by: caraWriter.next()))
        caraChanges.append(caraWriter.document.create(EntityID(ada.id), kind: .member, by: caraWriter.next()))
        caraChanges.append(
            caraWriter.document.set(Member.Field.displayName, of: EntityID(ada.id), to: .string("Ada Lovelace"), by: caraWriter.next()))
        caraChanges.append(caraWriter.document.set(Member.Field.role, of: EntityID(ada.id), to: MemberRole.teacher, by: caraWriter.next()))
        caraChanges.append(
            caraWriter.document.set(Member.Field.homeSchool, of: EntityID(ada.id), to: .reference(hillSchool), by: caraWriter.next()))
        caraChanges.append(caraWriter.document.create(s2, kind: .session, by: caraWriter.next()))
        caraChanges.append(
            caraWriter.document.set(DialogueSession.Field.title, of: s2, to: .string("Hill staff meeting"), by: caraWriter.next()))
        caraChanges.append(caraWriter.document.add(adaRef, toSet: DialogueSession.Field.participants, of: s2, by: caraWriter.next())!)
        try await push(caraChanges, by: "cara", token: "cara laptop", in: hill.privateSpace)

        // Ada's laptop, five hours in: the staff meeting's summary.
        var laptopHill = ScriptedWriter(devices["laptop"]!, in: hill.privateSpace, from: start + 5 * hour)
        try laptopHill.document.apply(caraChanges)
        let laptopHillChanges = try laptopHill.document.editText(
            DialogueSession.Field.summary, of: s2, at: 0, insert: "Reading first", by: laptopHill.next())
        try await push(laptopHillChanges, by: "laptop", token: "laptop", in: hill.privateSpace)

        return SubjectAccessScenario(
            partnership: partnership, hill: hill, vale: vale, ada: ada, ben: ben, cara: cara, tokens: listings, devices: devices,
            fingerprints: fingerprints, entities: ["s1": s1, "a1": a1, "ib": ib, "i1": i1, "i2": i2, "s2": s2, "hillSchool": hillSchool],
            pushed: pushed,
            personal: [
                "ada": try await store.personalSpace(of: ada.id), "ben": try await store.personalSpace(of: ben.id),
                "cara": try await store.personalSpace(of: cara.id),
            ], signingKeys: signers.mapValues(\.key), rawTokens: raw)
    }

    /// What `device` pushed in `space`.
    func changes(_ device: String, _ space: SpaceID) -> [Change] { pushed[device + "@" + space.description] ?? [] }

    /// The report about Ada, written out from the scenario (not from the code under test).
    func expectedReport(generatedAt: Int64) -> SubjectAccessReport {
        typealias R = SubjectAccessReport
        let shared = partnership.sharedSpace
        let (s1, a1, i1, i2, s2, hillSchool) = (
            entities["s1"]!, entities["a1"]!, entities["i1"]!, entities["i2"]!, entities["s2"]!, entities["hillSchool"]!
        )
        let adaRef = FieldValue.reference(EntityID(ada.id))
        let laptop = changes("laptop", shared)
        let tablet = changes("tablet", shared)
        let laptopHill = changes("laptop", hill.privateSpace)
        func edit(_ change: Change, _ field: String, _ kind: HistoryEditKind) -> R.Edit {
            R.Edit(
                field: field, edit: kind, at: Int64(change.timestamp.wallTime), device: change.replica, counter: change.id.counter,
                signing: .signed)
        }
        func device(_ name: String, token: String, registered: Int64, last: [R.SpaceCounter]) -> R.Device {
            R.Device(
                replica: devices[name]!, fingerprint: fingerprints[name]!, token: EntityID(tokens[token]!.id), tokenLabel: token,
                registeredAt: registered, revokedAt: nil, lastCounters: last, keptAtRevocation: [])
        }
        // Ada's insight: created, session, author, text typed; "their " deleted from the tablet.
        let firstInsight = R.WrittenEntity(
            entity: i1, kind: "insight", title: "Pupils explain thinking", created: true, deleted: false,
            standing: [
                .init(field: "text", text: "Pupils explain thinking"), .init(field: "author", value: adaRef),
                .init(field: "session", value: .reference(s1)),
            ],
            edits: [
                edit(laptop[0], "", .created(kind: "insight")), edit(laptop[1], "session", .set(.reference(s1))),
                edit(laptop[2], "author", .set(adaRef)),
                edit(laptop[3], "text", .insertedText(excerpt: "Pupils explain their thinking", length: 29)),
                edit(tablet[4], "text", .deletedText(excerpt: "their ", length: 6)),
            ])
        let secondInsight = R.WrittenEntity(
            entity: i2, kind: "insight", title: "Feedback works when specific", created: true, deleted: false,
            standing: [.init(field: "text", text: "Feedback works when specific"), .init(field: "author", value: adaRef)],
            edits: [
                edit(tablet[1], "", .created(kind: "insight")), edit(tablet[2], "author", .set(adaRef)),
                edit(tablet[3], "text", .insertedText(excerpt: "Feedback works when specific", length: 28)),
            ])
        let review = R.WrittenEntity(
            entity: s1, kind: "session", title: "Cross-school reading review", created: false, deleted: false,
            standing: [.init(field: "summary", text: "Agreed: peer visits each term")],
            edits: [
                edit(laptop[4], "summary", .insertedText(excerpt: "Agreed: peer visits", length: 19)),
                edit(tablet[0], "summary", .insertedText(excerpt: " each term", length: 10)),
            ])
        let action = R.WrittenEntity(
            entity: a1, kind: "action", title: "Share the reading plan", created: false, deleted: false,
            standing: [.init(field: "status", value: .string("done"))], edits: [edit(tablet[5], "status", .set(.string("done")))])
        let meeting = R.WrittenEntity(
            entity: s2, kind: "session", title: "Hill staff meeting", created: false, deleted: false,
            standing: [.init(field: "summary", text: "Reading first")],
            edits: [edit(laptopHill[0], "summary", .insertedText(excerpt: "Reading first", length: 13))])
        var named: [R.Naming] = [
            .init(
                entity: s1, kind: "session", title: "Cross-school reading review", field: "facilitator", role: "facilitator", deleted: false
            ),
            .init(
                entity: s1, kind: "session", title: "Cross-school reading review", field: "participants", role: "participant",
                deleted: false),
            .init(entity: a1, kind: "action", title: "Share the reading plan", field: "owner", role: "owner", deleted: false),
            .init(entity: i1, kind: "insight", title: "Pupils explain thinking", field: "author", role: "author", deleted: false),
            .init(entity: i2, kind: "insight", title: "Feedback works when specific", field: "author", role: "author", deleted: false),
        ]
        // By entity, then in the kind's field order (a session's facilitator before its participants).
        named.sort { ($0.entity, $0.field == "facilitator" ? 0 : 1) < ($1.entity, $1.field == "facilitator" ? 0 : 1) }
        let hillHeld = changes("cara", hill.privateSpace).count + laptopHill.count
        let sharedHeld = changes("ben", shared).count + laptop.count + tablet.count
        var spaces = [
            R.SpaceSection(
                space: hill.privateSpace, name: "Hill Primary", kind: "private", owner: EntityID(hill.id), changesHeld: hillHeld,
                changesByMember: laptopHill.count,
                memberRecord: .init(displayName: "Ada Lovelace", role: "teacher", homeSchool: hillSchool, deleted: false),
                named: [
                    .init(
                        entity: s2, kind: "session", title: "Hill staff meeting", field: "participants", role: "participant", deleted: false
                    )
                ],
                wrote: [meeting], unattributable: []),
            R.SpaceSection(
                space: shared, name: "North Partnership", kind: "shared", owner: EntityID(partnership.id), changesHeld: sharedHeld,
                changesByMember: laptop.count + tablet.count, memberRecord: nil, named: named,
                wrote: [firstInsight, secondInsight, review, action].sorted { $0.entity < $1.entity }, unattributable: []),
            R.SpaceSection(
                space: vale.privateSpace, name: "Vale Academy", kind: "private", owner: EntityID(vale.id), changesHeld: 0,
                changesByMember: 0,
                memberRecord: nil, named: [], wrote: [], unattributable: []),
            // Her own personal space (empty here); Ben's and Cara's are never searched.
            R.SpaceSection(
                space: personal["ada"]!, name: "Personal reflection (Ada Lovelace)", kind: "personal", owner: EntityID(ada.id),
                changesHeld: 0, changesByMember: 0, memberRecord: nil, named: [], wrote: [], unattributable: []),
        ]
        spaces.sort { ($0.name, $0.space) < ($1.name, $1.space) }
        return SubjectAccessReport(
            formatVersion: 1, generatedAt: generatedAt,
            subject: .init(
                id: EntityID(ada.id), name: "Ada Lovelace", access: .member, school: EntityID(hill.id), schoolName: "Hill Primary"),
            tokens: ["laptop", "tablet", "phone", "old phone"].map { SubjectAccessReport.Token(tokens[$0]!) },
            devices: [
                device(
                    "laptop", token: "laptop", registered: Self.start + 10 * Self.minute,
                    last: [
                        .init(space: hill.privateSpace, counter: laptopHill.last!.lastCounter),
                        .init(space: shared, counter: laptop.last!.lastCounter),
                    ]),
                device(
                    "tablet", token: "tablet", registered: Self.start + 11 * Self.minute,
                    last: [.init(space: shared, counter: tablet.last!.lastCounter)]),
                device("phone", token: "phone", registered: Self.start + 12 * Self.minute, last: []),
            ],
            spaces: spaces,
            cannotSee: [
                .init(
                    code: "device_never_synced", device: devices["phone"]!,
                    detail: "device \(devices["phone"]!) (token 'phone') is registered but the server holds no change from it: "
                        + "whatever it holds is on the device only"),
                .init(
                    code: "unsynced_local_edits",
                    detail: "edits made on a device of theirs and not synced yet are on that device only: the server cannot see "
                        + "them (sync each device first, or export from the device with dialogue-client)"),
                .init(
                    code: "personal_spaces_of_others",
                    detail: "the personal spaces of 2 other member(s) were not searched: each member's personal reflection "
                        + "is shared with nobody, the server's operator included; what they wrote there about this person is "
                        + "reached only through them (their own subject access, or an export from their device)"),
                .init(
                    code: "spaces_not_held",
                    detail: "only the 4 spaces listed were searched: spaces of other servers, bundle files passed "
                        + "between devices and backups are not"),
            ],
            references: [
                .init(id: EntityID(hill.id), kind: "school", name: "Hill Primary"),
                .init(id: EntityID(ada.id), kind: "memberAccount", name: "Ada Lovelace"),
                .init(id: s1, kind: "session", name: "Cross-school reading review"),
            ].sorted { $0.id < $1.id })
    }
}

/// One device's edits in one space at scripted times: a minute apart from `from`.
struct ScriptedWriter {
    let replica: ReplicaID
    var document: SpaceDocument
    private var time: Int64

    init(_ replica: ReplicaID, in space: SpaceID, from start: Int64) {
        self.replica = replica
        document = SpaceDocument(space: space)
        time = start - SubjectAccessScenario.minute
    }

    mutating func next() -> EditContext {
        time += SubjectAccessScenario.minute
        return EditContext(replica: replica, timestamp: HLCTimestamp(wallTime: UInt64(time)))
    }
}
