import Foundation
import Testing

@Suite("dialogue-client --help")
struct HelpSnapshotTests {
    @Test("--help matches Snapshots/help.txt exactly (update the file when the command line changes on purpose)")
    func helpSnapshot() async throws {
        let scratch = Scratch()
        let result = try await run(try builtBinary("dialogue-client"), ["--help"], home: scratch.path(""))
        #expect(result.status == 0)
        let expected = try String(
            contentsOf: packageRoot().appendingPathComponent("Tests/DialogueClientTests/Snapshots/help.txt"), encoding: .utf8)
        #expect(result.stdout == expected)
    }

    @Test("shell completion scripts are generated")
    func completion() async throws {
        let scratch = Scratch()
        for shell in ["bash", "zsh", "fish"] {
            let result = try await run(try builtBinary("dialogue-client"), ["--generate-completion-script", shell], home: scratch.path(""))
            #expect(result.status == 0 && result.stdout.contains("sessions"), "\(shell): \(result.stderr)")
        }
    }
}
