import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import Testing

/// The personal space on a member's devices (issue 13, item 5): held after login, seeded
/// with the personal reflection prompts once (a member's second device finds the first
/// one's and writes none; a prompt deleted there stays deleted), and converging between
/// the member's own devices only.
struct PersonalSpaceReplicaTests {
    @Test(
        "two devices of one member: the first seeds the personal reflection prompts, the second writes none and keeps a deletion; a colleague holds none of it"
    )
    func seededOnceAcrossTheMembersDevices() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        try await withLiveServer(store: store) { url in
            func device(_ name: String, token: String) async throws -> (Replica, SyncClient) {
                let replica = try Replica(path: directory.path("\(name).sqlite"))
                try await replica.addSpace(accounts.partnership.sharedSpace)
                let client = SyncClient(configuration: .init(server: url, token: accounts.tokens[token]!))
                _ = try await client.registerDevice(replica)
                return (replica, client)
            }
            let (laptop, laptopClient) = try await device("laptop", token: "hill-member")
            let personal = try #require(try laptop.personalSpace())
            #expect(personal.kind == .personal && personal.name == "Personal reflection (hill-member)")
            #expect(await laptop.spaces.contains(personal.space), "held from login")
            #expect(await laptop.document(personal.space)?.prompts.isEmpty == true, "seeded only after its first sync")
            #expect(try await laptopClient.seedPersonalReflection(laptop) == 0, "seeded before the space ever synced")

            let first = try await laptopClient.sync(laptop)
            #expect(first.spaces.contains(personal.space) && first.pushed == 0, "sync itself writes nothing")
            #expect(try await laptopClient.seedPersonalReflection(laptop) == PromptLibrary.personalReflection.count)
            let seeded = try #require(await laptop.document(personal.space)).prompts.map(\.id)
            #expect(Set(seeded) == Set(PromptLibrary.personalReflection.map(\.id)))
            #expect(await laptop.document(accounts.partnership.sharedSpace)?.prompts.isEmpty == true, "none in the shared space")
            let gone = PromptLibrary.personalReflection[0].id
            try await laptop.edit(in: personal.space) { editor in try editor.delete(gone) }
            try await laptopClient.sync(laptop)

            let (tablet, tabletClient) = try await device("tablet", token: "hill-member")
            let second = try await tabletClient.sync(tablet)
            #expect(second.pulled > 0 && second.pushed == 0)
            #expect(try await tabletClient.seedPersonalReflection(tablet) == 0, "the second device wrote the seed again")
            let tabletState = try #require(await tablet.document(personal.space))
            #expect(tabletState.isDeleted(gone), "a deleted prompt came back")
            #expect(tabletState.canonicalExport() == (try #require(await laptop.document(personal.space))).canonicalExport())

            // A colleague of the same school (an admin) holds their own, and never Hill's.
            let (colleague, colleagueClient) = try await device("colleague", token: "hill-admin")
            try await colleagueClient.sync(colleague)
            let theirs = try #require(try colleague.personalSpace())
            #expect(theirs.space != personal.space)
            #expect(await !colleague.spaces.contains(personal.space))
            await #expect(throws: ReplicaError.self) { try await colleague.leave(theirs.space) }
        }
    }

    @Test(
        "in their own personal space a member erases anything without an admin's approval; the server and their other device accept it"
    )
    func ownerErasesInTheirPersonalSpace() async throws {
        let directory = ServerTestDirectory()
        let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
        let accounts = try await AccountFixture.make(store)
        try await withLiveServer(store: store) { url in
            func device(_ name: String) async throws -> (Replica, SyncClient) {
                let replica = try Replica(path: directory.path("\(name).sqlite"))
                try await replica.addSpace(accounts.partnership.sharedSpace)
                let client = SyncClient(configuration: .init(server: url, token: accounts.tokens["hill-member"]!))
                _ = try await client.registerDevice(replica)
                return (replica, client)
            }
            let (laptop, laptopClient) = try await device("laptop")
            let personal = try #require(try laptop.personalSpace()).space
            try await laptopClient.sync(laptop)
            try await laptopClient.seedPersonalReflection(laptop)
            let session = try await laptop.edit(in: personal) { editor in
                try editor.createSession(title: "Kookaburra-Lynx reflection on my own practice")
            }
            let shared = try await laptop.edit(in: accounts.partnership.sharedSpace) { editor in
                try editor.createSession(title: "A shared session")
            }
            try await laptopClient.sync(laptop)
            let (tablet, tabletClient) = try await device("tablet")
            try await tabletClient.sync(tablet)
            #expect(await tablet.document(personal)?.kind(of: session) != nil)

            // A session and a seeded prompt: neither is an insight of hers, and in a
            // partnership's space a session needs an admin; in her personal space, nobody's.
            let prompt = PromptLibrary.personalReflection[1].id
            #expect(try await laptop.erasureNeedsApproval(.entity(session), in: personal) == false)
            #expect(try await laptop.erasureNeedsApproval(.entity(shared), in: accounts.partnership.sharedSpace) == true)
            await #expect(throws: ReplicaError.self) { try await laptop.forget(.entity(shared), in: accounts.partnership.sharedSpace) }
            try await laptop.forget(.entity(session), in: personal)
            try await laptop.forget(.field(prompt, Prompt.Field.text), in: personal)
            let pushed = try await laptopClient.sync(laptop)
            #expect(pushed.pushed == 2, "the server refused her erasures")

            try await tabletClient.sync(tablet)
            let held = try #require(await tablet.document(personal))
            #expect(held.isErased(session))
            #expect(held.value(Prompt.Field.text, of: prompt) == nil || held.value(Prompt.Field.text, of: prompt) == .null)
            #expect(held.canonicalExport() == (try #require(await laptop.document(personal))).canonicalExport())
            for name in ["laptop", "tablet"] {
                let path = directory.path("\(name).sqlite")
                for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                    #expect(bytes.range(of: Data("Kookaburra-Lynx".utf8)) == nil, "erased words in \(file)")
                }
            }
        }
    }
}
