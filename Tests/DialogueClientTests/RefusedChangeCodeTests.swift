import DialogueModel
import DialogueSync
import DialogueTestSupport
import Foundation
import Testing

/// A bundle carrying a change the replica refuses, through the real `dialogue-client`: the
/// refusal names its stable code (the one the server gives the same change) in the message,
/// and `--json` reports it as `code` on stderr, so a script can tell an invalid value
/// from a forged history without reading prose.
@Suite("dialogue-client names the code of a refused change")
struct RefusedChangeCodeTests {
    enum Refused: String, CaseIterable, Sendable {
        case invalidValue = "invalid_value"
        case impossibleHistory = "impossible_history"
    }

    @Test(
        "bundle import of an invalid value and of a forged history: exit 65, the code in the message and in --json",
        arguments: Refused.allCases)
    func refusedChangeCode(_ refused: Refused) async throws {
        let scratch = Scratch()
        let server = try await LiveServer.start(in: scratch)
        defer { server.stop() }
        let leader = try await server.loggedInLeader("hill", in: scratch)
        var scenario = try ForgeryScenario(space: SpaceID(UUID(uuidString: server.sharedSpace)!), wallTime: 1_780_000_000_000)
        let bad: Change
        switch refused {
        case .invalidValue:
            bad = scenario.mallory.set(
                DialogueSession.Field.scheduledAt, of: scenario.session, to: .string("soon"),
                by: scenario.context(ForgeryScenario.mallory))
        case .impossibleHistory:
            bad = try scenario.mallorysChanges(.set).forged
        }
        // Each device is certified by the server and signs its changes: the bundle verifies,
        // and the merge behind the verification refuses the bad change.
        var signers: [ReplicaID: ChangeSigner] = [:]
        var certificates: [DeviceCertificate] = []
        for device in [ForgeryScenario.hill, ForgeryScenario.vale, ForgeryScenario.mallory] {
            let signer = ChangeSigner()
            signers[device] = signer
            certificates.append(try await server.registerDevice(device, key: signer.key.publicKey, as: "vale"))
        }
        let changes = scenario.fromHill + scenario.fromVale + [bad]
        var heads: [ChainHead] = []
        for device in [ForgeryScenario.hill, ForgeryScenario.vale, ForgeryScenario.mallory] {
            heads += try signers[device]!.sign(changes.filter { $0.replica == device })
        }
        let bundle = URL(fileURLWithPath: scratch.path("refused.dlgb"))
        var writer = try BundleWriter(
            to: bundle,
            header: .init(
                createdBy: ForgeryScenario.mallory, createdAt: 1_780_000_000_000,
                spaces: [.init(space: scenario.space, base: VersionVector())], certificates: certificates))
        try writer.write(changes, heads: heads)
        try writer.finish()

        let text = try await leader.client(["bundle", "import", bundle.path])
        #expect(text.status == 65, "exit \(text.status): \(text.stderr)")
        #expect(text.stderr.contains("error: change \(bad.id) refused (\(refused.rawValue): "), "\(text.stderr)")

        let json = try await leader.client(["bundle", "import", bundle.path, "--json"])
        #expect(json.status == 65)
        let document = try #require(
            try? JSONSerialization.jsonObject(with: Data(json.stderr.utf8)) as? [String: Any], "not JSON: \(json.stderr)")
        #expect(document["code"] as? String == refused.rawValue)
        #expect(document["exit"] as? Int == 65)
        #expect((document["message"] as? String)?.contains(refused.rawValue) == true)
        #expect(json.stdout.isEmpty)
    }
}
