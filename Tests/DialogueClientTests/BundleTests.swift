import DialogueModel
import DialogueSync
import Foundation
import Testing

/// `bundle export|import` through the real binaries, against a real server's keys: a
/// bundle is signed (format 2), verified on import with the importer's pinned key, and
/// carries only the spaces it may (docs/TRUST.md, "Bundles, format 2").
@Suite("bundle export|import")
struct BundleTests {
    /// Hill and Vale, partner schools' leaders, logged in to one server, holding the shared space.
    static func partners(_ scratch: Scratch) async throws -> (LiveServer, hill: Leader, vale: Leader) {
        let server = try await LiveServer.start(in: scratch)
        let hill = try await server.loggedInLeader("hill", in: scratch)
        let vale = try await server.loggedInLeader("vale", in: scratch)
        return (server, hill, vale)
    }

    /// Everything a leader's replica shows of a space (to check a refusal changed nothing).
    static func state(_ leader: Leader, _ space: String) async throws -> String {
        try await leader.ok(["export", "--space", space, "--format", "json"]) + (try await leader.ok(["status", "--json"]))
    }

    @Test("a bundle carries a session to another replica with no network; both export the same JSON")
    func roundTrip() async throws {
        let scratch = Scratch()
        let (server, hill, vale) = try await Self.partners(scratch)
        defer { server.stop() }
        let space = server.sharedSpace
        let session = try await hill.ok(["sessions", "create", "--title", "Offline only", "--at", "2025-03-14"])
        try await hill.ok(["insights", "capture", session, "Captured on the train."])
        let file = scratch.path("hill.bundle")
        let exported = try #require(try await hill.json(["bundle", "export", file]) as? [String: Any])
        #expect(exported["spaces"] as? [String] == [space.lowercased()] || exported["spaces"] as? [String] == [space])
        let imported = try #require(try await vale.json(["bundle", "import", file]) as? [String: Any])
        #expect((imported["applied"] as? Int ?? 0) > 0)
        let hillExport = try await hill.ok(["export", "--space", space, "--format", "json"])
        let valeExport = try await vale.ok(["export", "--space", space, "--format", "json"])
        #expect(hillExport == valeExport && hillExport.contains("Captured on the train."))
        let csv = try await vale.ok(["export", "--session", session, "--format", "csv"])
        #expect(csv.hasPrefix("record,id,session,text") && csv.contains("Captured on the train."))
    }

    // MARK: Altered bundles

    enum Alteration: String, CaseIterable, Sendable {
        case content, counter, signature
    }

    /// A bundle file taken apart (as an attacker with the format's documentation would).
    struct OpenedBundle {
        var header: BundleFormat.Header
        var frames: [(changes: [Change], heads: [ChainHead])]

        init(_ path: String) throws {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
            let headerLength = u32(5)
            header = try JSONDecoder().decode(BundleFormat.Header.self, from: Data(bytes[9..<(9 + headerLength)]))
            frames = []
            var offset = 9 + headerLength
            while offset < bytes.count - 16 {
                let changesLength = u32(offset)
                let changes = try ChangeCodec.decode(Data(bytes[(offset + 4)..<(offset + 4 + changesLength)]))
                offset += 4 + changesLength
                let headsLength = u32(offset)
                let heads = try ChainHeadCodec.decode(Array(bytes[(offset + 4)..<(offset + 4 + headsLength)]))
                offset += 4 + headsLength
                frames.append((changes, heads))
            }
        }

        /// Writes it again, well formed (valid lengths and checksums): only the signatures can tell.
        func write(to path: String) throws {
            var writer = try BundleWriter(to: URL(fileURLWithPath: path), header: header)
            for frame in frames { try writer.write(frame.changes, heads: frame.heads) }
            try writer.finish()
        }
    }

    @Test(
        "a change altered in a bundle (one byte of content, of a counter, of a signature) is refused on import: exit 65, the code printed, nothing imported",
        arguments: Alteration.allCases)
    func alteredChangeRefused(_ alteration: Alteration) async throws {
        let scratch = Scratch()
        let (server, hill, vale) = try await Self.partners(scratch)
        defer { server.stop() }
        let space = server.sharedSpace
        let session = try await hill.ok(["sessions", "create", "--title", "Offline only", "--at", "2025-03-14"])
        try await hill.ok(["insights", "capture", session, "Captured on the train."])
        let file = scratch.path("hill.bundle")
        try await hill.ok(["bundle", "export", file])
        var bundle = try OpenedBundle(file)
        let expected: Set<String>
        switch alteration {
        case .content:
            // "Captured" becomes "Xaptured": one byte of the insight's text.
            let (frame, index) = try #require(
                bundle.frames.indices.lazy.compactMap { frame in
                    bundle.frames[frame].changes.firstIndex {
                        if case .insertText(_, _, let text) = $0.operation { text.contains("Captured") } else { false }
                    }.map { (frame, $0) }
                }.first)
            var change = bundle.frames[frame].changes[index]
            guard case .insertText(let left, let right, let text) = change.operation else { return }
            change.operation = .insertText(originLeft: left, originRight: right, text: "X" + text.dropFirst())
            bundle.frames[frame].changes[index] = change
            expected = ["bad_signature"]
        case .counter:
            let frame = bundle.frames.count - 1
            let last = bundle.frames[frame].changes.count - 1
            bundle.frames[frame].changes[last].id.counter += 1
            expected = ["bad_signature", "counter_gap"]
        case .signature:
            bundle.frames[0].heads[0].signature[10] ^= 0x01
            expected = ["bad_signature"]
        }
        let altered = scratch.path("altered.bundle")
        try bundle.write(to: altered)
        let before = try await Self.state(vale, space)

        let refused = try await vale.client(["bundle", "import", altered])
        #expect(refused.status == 65, "exit \(refused.status): \(refused.stderr)")
        #expect(expected.contains { refused.stderr.contains("(\($0))") }, "\(refused.stderr)")
        #expect(refused.stderr.contains("nothing from this batch was stored"), "\(refused.stderr)")
        let json = try await vale.client(["bundle", "import", altered, "--json"])
        let document = try #require(try? JSONSerialization.jsonObject(with: Data(json.stderr.utf8)) as? [String: Any], "\(json.stderr)")
        let code = document["code"] as? String
        #expect(code.map(expected.contains) == true, "\(json.stderr)")
        #expect(try await Self.state(vale, space) == before, "a refused bundle changed the replica")
        #expect(!(try await vale.ok(["export", "--space", space, "--format", "json"])).contains("aptured on the train"))
        // The bundle as written imports.
        #expect((try await vale.client(["bundle", "import", file])).status == 0)
    }

    @Test("a change relayed through a third device verifies: A exports, C imports and exports again, B imports")
    func relayedThroughThirdDevice() async throws {
        let scratch = Scratch()
        let (server, hill, vale) = try await Self.partners(scratch)
        defer { server.stop() }
        let space = server.sharedSpace
        // B: Hill's second device (another replica, the same member), which never met Hill's first.
        let laptop = try await server.loggedInLeader("hill", in: scratch, replicaName: "hill-laptop")
        let session = try await hill.ok(["sessions", "create", "--title", "Written at Hill", "--at", "2025-03-14"])
        try await hill.ok(["insights", "capture", session, "Seen at Hill."])
        let fromHill = scratch.path("from-hill.bundle")
        try await hill.ok(["bundle", "export", fromHill])
        try await vale.ok(["bundle", "import", fromHill])
        try await vale.ok(["insights", "capture", session, "Added at Vale."])
        let fromVale = scratch.path("from-vale.bundle")
        try await vale.ok(["bundle", "export", fromVale])
        // The relayed bundle carries Hill's changes with Hill's heads and certificate.
        let relayed = try OpenedBundle(fromVale)
        #expect(relayed.header.certificates.count == 2)
        let imported = try #require(try await laptop.json(["bundle", "import", fromVale]) as? [String: Any])
        #expect((imported["applied"] as? Int ?? 0) > 0)
        let shown = try await laptop.ok(["export", "--space", space, "--format", "json"])
        #expect(shown.contains("Seen at Hill.") && shown.contains("Added at Vale."))
        #expect(shown == (try await vale.ok(["export", "--space", space, "--format", "json"])))
    }

    // MARK: Private spaces

    @Test(
        "a school's private space never leaves by default; named, it leaves with a warning, and a partner's import refuses it whatever the flags"
    )
    func privateSpaceStaysHome() async throws {
        let scratch = Scratch()
        let (server, hill, vale) = try await Self.partners(scratch)
        defer { server.stop() }
        let shared = server.sharedSpace
        let directory = try #require(try Replica(path: hill.replica).spaceDirectory())
        let privateSpace = try #require(directory.entries.first { $0.kind == .private })
        #expect(privateSpace.name == "Hill School")
        try await hill.ok(["init", "--space", privateSpace.space.description])
        let note = try await hill.ok([
            "sessions", "create", "--title", "Safeguarding", "--at", "2025-03-14", "--space", privateSpace.space.description,
        ])
        try await hill.ok(["insights", "capture", note, "A safeguarding concern about a pupil."])
        let visit = try await hill.ok(["sessions", "create", "--title", "Joint visit", "--at", "2025-03-15", "--space", shared])
        try await hill.ok(["insights", "capture", visit, "Shared with Vale."])

        // By default: the shared space only, no warning.
        let file = scratch.path("default.bundle")
        let exported = try await hill.client(["bundle", "export", file, "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(exported.stdout.utf8)) as? [String: Any])
        #expect((summary["spaces"] as? [String])?.map { $0.lowercased() } == [shared.lowercased()])
        #expect((summary["privateSpaces"] as? [String])?.isEmpty == true)
        #expect(!exported.stderr.contains("warning"))
        #expect(try OpenedBundle(file).header.spaces.map(\.space) == [SpaceID(UUID(uuidString: shared)!)])
        #expect(
            try OpenedBundle(file).frames.allSatisfy { $0.changes.allSatisfy { $0.space.description.lowercased() == shared.lowercased() } })
        try await vale.ok(["bundle", "import", file])
        #expect(!(try await vale.ok(["export", "--space", shared, "--format", "json"])).contains("safeguarding"))

        // Named (by name): it leaves, with a warning naming it.
        let named = scratch.path("named.bundle")
        let leaving = try await hill.client(["bundle", "export", named, "--space", "hill school", "--space", "North Partnership"])
        #expect(leaving.status == 0, "\(leaving.stderr)")
        #expect(leaving.stderr.contains("warning: exporting the private space «Hill School»"), "\(leaving.stderr)")
        #expect(Set(try OpenedBundle(named).header.spaces.map(\.space)) == [privateSpace.space, SpaceID(UUID(uuidString: shared)!)])

        // The partner's import refuses the whole bundle, naming the space, whatever the flags.
        let before = try await Self.state(vale, shared)
        let refused = try await vale.client(["bundle", "import", named])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("«Hill School»") && refused.stderr.contains("nothing was imported"), "\(refused.stderr)")
        let json = try await vale.client(["bundle", "import", named, "--json"])
        let document = try #require(try? JSONSerialization.jsonObject(with: Data(json.stderr.utf8)) as? [String: Any], "\(json.stderr)")
        #expect(document["code"] as? String == "space_not_permitted")
        let flagged = try await vale.client(["bundle", "import", named, "--accept-new-spaces"])
        #expect(flagged.status != 0)
        #expect(try await Self.state(vale, shared) == before, "a refused bundle changed the replica")
        #expect(
            !(try await vale.client(["export", "--space", privateSpace.space.description, "--format", "json"])).stdout.contains(
                "safeguarding"))

        // A name that is no space, or no login: clear errors.
        let unknown = try await hill.client(["bundle", "export", scratch.path("x.bundle"), "--space", "Nowhere"])
        #expect(
            unknown.status == 66 && unknown.stderr.contains("Hill School") && unknown.stderr.contains("North Partnership"),
            "\(unknown.stderr)")
    }

    // MARK: Old and unverifiable bundles

    /// A bundle as dialogue-client wrote it before signed changes (format 1).
    static func formatOneBundle(space: String, changes: [Change]) -> [UInt8] {
        func le32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        let header = Array(
            #"{"createdAt":1765000000000,"createdBy":"00000000000000b2","format":"dialogue-bundle","spaces":[{"base":{"counters":{}},"space":"\#(space)"}],"version":1}"#
                .utf8)
        let frame = ChangeCodec.encode(changes)
        var bytes = Array("DLGB".utf8) + [1] + le32(header.count) + header + le32(frame.count) + frame
        bytes += Array("DLGE".utf8) + (0..<8).map { UInt8(truncatingIfNeeded: changes.count >> (8 * $0)) }
        var crc = CRC32()
        crc.update(bytes)
        return bytes + le32(Int(crc.value))
    }

    @Test("a format-1 bundle is refused: made before signed changes, it cannot be verified; ask the sender to export again")
    func formatOneRefused() async throws {
        let scratch = Scratch()
        let (server, _, vale) = try await Self.partners(scratch)
        defer { server.stop() }
        let space = SpaceID(UUID(uuidString: server.sharedSpace)!)
        var document = SpaceDocument(space: space)
        let change = document.create(
            EntityID(UUID()), kind: EntityKind.session.rawValue,
            by: EditContext(
                replica: ReplicaID(rawValue: 0xB2)!, timestamp: HLCTimestamp(wallTime: 1_765_000_000_000)))
        let file = scratch.path("old.bundle")
        try Data(Self.formatOneBundle(space: server.sharedSpace.lowercased(), changes: [change])).write(to: URL(fileURLWithPath: file))
        let before = try await Self.state(vale, server.sharedSpace)
        let refused = try await vale.client(["bundle", "import", file])
        #expect(refused.status == 65, "\(refused.stderr)")
        for words in ["format-1", "before signed changes", "cannot be verified", "upgrade dialogue-client and export the bundle again"] {
            #expect(refused.stderr.contains(words), "\(refused.stderr)")
        }
        #expect(try await Self.state(vale, server.sharedSpace) == before)
    }

    @Test("before login, import and export say to log in first and change nothing")
    func loginFirst() async throws {
        let scratch = Scratch()
        let (server, hill, _) = try await Self.partners(scratch)
        defer { server.stop() }
        let file = scratch.path("hill.bundle")
        try await hill.ok(["bundle", "export", file])
        let stranger = Leader("stranger", in: scratch)
        try await stranger.ok(["init", "--space", server.sharedSpace])
        for command in [["bundle", "import", file], ["bundle", "export", scratch.path("stranger.bundle")]] {
            let result = try await stranger.client(command)
            #expect(result.status == 66, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("log in first (`dialogue-client login`)"), "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path("stranger.bundle")))
    }
}
