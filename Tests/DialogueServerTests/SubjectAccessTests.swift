import DialogueModel
import DialogueSync
import Foundation
import Testing

@testable import DialogueServer

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 13, item 3: "subject access output checked against a scenario where the person
/// wrote, was named, and had two devices" (``SubjectAccessScenario``), on both stores, and
/// through the real `dialogue-server admin subject-access`.
@Suite("Subject access")
struct SubjectAccessTests {
    static let generatedAt: Int64 = SubjectAccessScenario.start + 48 * SubjectAccessScenario.hour

    static func gather(_ member: UUID, _ store: any SyncStore) async throws -> SubjectAccessReport {
        try await SubjectAccess.gather(
            member: member, store: store, now: Date(timeIntervalSince1970: Double(generatedAt) / 1000))
    }

    @Test(
        "the report names what Ada wrote from two devices, where others named her, her record, devices and tokens, and what it cannot see; nothing of Ben's own",
        arguments: StoreKind.allCases)
    func scenarioReport(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            let scenario = try await SubjectAccessScenario.build(in: fresh.store)
            let report = try await Self.gather(scenario.ada.id, fresh.store)
            let expected = scenario.expectedReport(generatedAt: Self.generatedAt)
            // Section by section first, so a failure says which one differs.
            #expect(report.subject == expected.subject)
            #expect(report.tokens == expected.tokens)
            #expect(report.devices == expected.devices)
            #expect(report.cannotSee == expected.cannotSee)
            #expect(report.references == expected.references)
            #expect(
                report.spaces.map(\.name) == ["Hill Primary", "North Partnership", "Personal reflection (Ada Lovelace)", "Vale Academy"])
            for (found, wanted) in zip(report.spaces, expected.spaces) {
                #expect(found.memberRecord == wanted.memberRecord, "\(wanted.name)")
                #expect(found.named == wanted.named, "\(wanted.name)")
                #expect(found.wrote == wanted.wrote, "\(wanted.name)")
                #expect(found == wanted, "\(wanted.name)")
            }
            #expect(report == expected)

            // Ben's own insight is in the store (his report has it), and nowhere in Ada's.
            let ib = scenario.entities["ib"]!
            let bens = try await Self.gather(scenario.ben.id, fresh.store)
            #expect(bens.spaces.flatMap(\.wrote).map(\.entity).contains(ib))
            #expect(!report.spaces.flatMap(\.wrote).map(\.entity).contains(ib))
            #expect(!report.spaces.flatMap(\.named).map(\.entity).contains(ib))
            let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
            #expect(!json.contains("Vale pupils read aloud daily") && !json.contains(ib.description))
            #expect(!report.markdown().contains("Vale pupils"))
            // Ben's report has his device and none of Ada's.
            #expect(bens.devices.map(\.replica) == [scenario.devices["ben"]!])
        }
    }

    @Test("an unknown member is refused with memberNotFound", arguments: StoreKind.allCases)
    func unknownMember(_ kind: StoreKind) async throws {
        try await withFreshStore(kind) { fresh in
            _ = try await AccountFixture.make(fresh.store)
            let nobody = UUID()
            await #expect(throws: SubjectAccessError.memberNotFound(nobody)) { try await Self.gather(nobody, fresh.store) }
        }
    }

    @Test(
        "changes from before signing: unattributable while their device is unregistered (counted, no content); once it registers for the member, theirs, marked unsigned legacy",
        arguments: StoreKind.allCases)
    func legacyChanges(_ kind: StoreKind) async throws {
        typealias Old = PreSigningStore
        let old = try await LegacyVectorTests.OldStore(kind)
        do {
            let store = try await old.open()
            let before = try await Self.gather(Old.member, store)
            let shared = try #require(before.spaces.first { $0.space == Old.sharedSpace })
            let changes = Old.changes
            #expect(
                shared.unattributable == [
                    .init(
                        replica: Old.author, changes: 2, entities: 1, firstAt: Int64(changes[0].timestamp.wallTime),
                        lastAt: Int64(changes[1].timestamp.wallTime))
                ])
            #expect(shared.wrote.isEmpty && shared.changesByMember == 0 && shared.changesHeld == 2)
            #expect(before.cannotSee.map(\.code) == ["unattributable_changes", "unsynced_local_edits", "spaces_not_held"])
            #expect(before.cannotSee.first?.space == Old.sharedSpace)
            #expect(!String(decoding: try JSONEncoder().encode(before), as: UTF8.self).contains(Old.title))
            #expect(before.markdown().contains("Changes nobody can be attributed"))

            // The old device logs in as Ada's: its earlier changes are hers, accepted unsigned.
            let access = try #require(try await store.token(forTokenHash: Old.tokenHash))
            _ = try await ServerAuthority(store: store).register(
                DeviceRegistrationRequest(replica: Old.author, publicKey: SigningKeyPair().publicKey), token: access)
            let after = try await Self.gather(Old.member, store)
            let mine = try #require(after.spaces.first { $0.space == Old.sharedSpace })
            #expect(mine.unattributable.isEmpty && mine.changesByMember == 2)
            #expect(mine.wrote.map(\.entity) == [Old.session])
            #expect(mine.wrote.first?.standing == [.init(field: "title", value: .string(Old.title))])
            #expect(mine.wrote.first?.edits.map(\.signing) == [.unsignedLegacy, .unsignedLegacy])
            #expect(mine.wrote.first?.edits.map(\.edit) == [.created(kind: "session"), .set(.string(Old.title))])
            #expect(after.markdown().contains("unsigned, before protocol 2"))
            try await store.close()
        } catch {
            await old.dispose()
            throw error
        }
        await old.dispose()
    }

    // MARK: Through the binary

    /// `dialogue-server admin subject-access …` with the store arguments.
    static func run(_ arguments: [String], _ store: [String]) async throws -> ProcessResult {
        try await runProcess(try serverBinary(), ["admin", "subject-access"] + arguments + store, environment: childEnvironment())
    }

    @Test(
        "dialogue-server admin subject-access: JSON as the library gathers it, Markdown with the headings and names, an unknown member exits non-zero, --output is 0600",
        arguments: StoreKind.allCases)
    func throughTheBinary(_ kind: StoreKind) async throws {
        let directory = ServerTestDirectory()
        let database = kind == .postgres ? try await PostgresTestDatabase.create() : nil
        let storeArguments = database.map { ["--database", $0.url] } ?? ["--data-dir", directory.path("data")]
        do {
            let store: any SyncStore
            if let database {
                store = try await PostgresSyncStore.connect(
                    url: database.url, logger: quietLogger("dialogue.test.postgres"), timeout: postgresTestTimeout)
            } else {
                try PrivateFiles.createDirectory(directory.path("data"))
                store = try SQLiteSyncStore(path: directory.path("data") + "/dialogue-server.sqlite")
            }
            let scenario = try await SubjectAccessScenario.build(in: store)
            try await store.close()
            let ada = scenario.ada.id.uuidString

            let json = try await Self.run(["--member", ada, "--format", "json"], storeArguments)
            #expect(json.status == 0, "\(json.stderr)")
            let report = try JSONDecoder().decode(SubjectAccessReport.self, from: Data(json.stdout.utf8))
            #expect(report == scenario.expectedReport(generatedAt: report.generatedAt))
            #expect(json.stdout.contains("\"formatVersion\" : 1"))
            #expect(json.stdout.contains("\"id\" : \"\(ada.lowercased())\"") && !json.stdout.contains(ada))  // ids lower-case
            let flag = try await Self.run(["--member", ada, "--json"], storeArguments)
            #expect(try JSONDecoder().decode(SubjectAccessReport.self, from: Data(flag.stdout.utf8)).spaces == report.spaces)

            let markdown = try await Self.run(["--member", ada], storeArguments)
            #expect(markdown.status == 0, "\(markdown.stderr)")
            for expected in [
                "# Subject access report: Ada Lovelace", "## What this report could not see", "## Tokens", "## Devices",
                "## School space: Hill Primary", "## Partnership space: North Partnership", "## School space: Vale Academy",
                "## Their personal space: Personal reflection (Ada Lovelace)", "(`personal_spaces_of_others`)",
                "### Their member record", "- Role: Teacher", "- Home school: Hill Primary (`\(scenario.entities["hillSchool"]!)`)",
                "- Facilitator of session “Cross-school reading review” (`\(scenario.entities["s1"]!)`)",
                "- Owner of action “Share the reading plan”", "- Participant of session “Hill staff meeting”",
                "#### Insight “Pupils explain thinking”", "typed “Pupils explain their thinking” (29 characters)",
                "deleted “their ” (6 characters)", "| old phone | `\(EntityID(scenario.tokens["old phone"]!.id))` |",
                "never synced", "(`device_never_synced`)",
            ] {
                #expect(markdown.stdout.contains(expected), "missing: \(expected)")
            }
            #expect(!markdown.stdout.contains("Vale pupils"))

            let unknown = try await Self.run(["--member", UUID().uuidString], storeArguments)
            #expect(unknown.status != 0)
            #expect(unknown.stderr.contains("no member"), "\(unknown.stderr)")
            #expect(unknown.stdout.isEmpty)

            let output = directory.path("ada-report.md")
            let written = try await Self.run(["--member", ada, "--output", output], storeArguments)
            #expect(written.status == 0, "\(written.stderr)")
            #expect(written.stdout.contains("wrote the subject access report of Ada Lovelace to \(output)"))
            #expect(PrivateFiles.mode(of: output) == 0o600)
            let file = try String(contentsOfFile: output, encoding: .utf8)
            // The same report but for the time it was gathered.
            #expect(file.split(separator: "\n").dropFirst(3) == markdown.stdout.split(separator: "\n").dropFirst(3))
        } catch {
            await database?.drop()
            throw error
        }
        await database?.drop()
    }
}
