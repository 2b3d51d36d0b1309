import DialogueTestSupport
import Foundation
import Testing

/// The README's walkthrough, pasted into a shell as a reader would (issue 12: "the README
/// walkthrough … still works when pasted"): the `sh` block under "Walkthrough" runs with
/// `bash -e` against the built binaries, on a free port instead of 8080 (`swift build` is
/// skipped: the tests run on a build).
@Suite("README walkthrough")
struct ReadmeWalkthroughTests {
    /// The walkthrough's shell block, as written in README.md.
    static func walkthrough() throws -> String {
        let readme = try String(contentsOf: packageRoot().appendingPathComponent("README.md"), encoding: .utf8)
        guard let heading = readme.range(of: "### Walkthrough"),
            let open = readme.range(of: "```sh\n", range: heading.upperBound..<readme.endIndex),
            let close = readme.range(of: "\n```", range: open.upperBound..<readme.endIndex)
        else { throw SetupFailure(description: "README.md has no ```sh block under ### Walkthrough") }
        return String(readme[open.upperBound..<close.lowerBound])
    }

    @Test("pasted into bash -e, the walkthrough runs to the end: fingerprint pinned, spaces named, authors named, history signed")
    func walkthroughRuns() async throws {
        let scratch = Scratch()
        let port = try freeTCPPort()
        var script = try Self.walkthrough()
        #expect(script.contains("swift build\n") && script.contains("8080"))
        script = script.replacingOccurrences(of: "swift build\n", with: "")
            .replacingOccurrences(of: "8080", with: "\(port)")
            .replacingOccurrences(
                of: #"export PATH="$PWD/.build/debug:$PATH""#, with: #"export PATH="\#(packageRoot().path)/.build/debug:$PATH""#)
        // A failing line must not leave the server running. `|| true`: under `bash -e` a failing
        // command in the trap is the script's exit status, and after the walkthrough's own
        // `kill` the server is often gone already (seen: exit 1 with every step done).
        script = "trap 'kill $SERVER_PID 2>/dev/null || true' EXIT\n" + script
        let path = scratch.path("walkthrough.sh")
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await run("/bin/bash", ["-e", path], home: scratch.path(""))
        #expect(result.status == 0, "the walkthrough stopped (exit \(result.status)):\n\(result.stdout)\n\(result.stderr)")
        let out = result.stdout
        let fingerprints = out.split(separator: "\n").filter {
            $0.hasPrefix("server key fingerprint SHA256:") && $0.hasSuffix("(pinned now)")
        }
        #expect(fingerprints.count == 2, "\(out)")
        let printed = try #require(fingerprints.first?.split(separator: " ")[3])
        #expect(out.split(separator: "\n").contains { $0 == printed }, "admin server-key prints the fingerprint login printed: \(out)")
        #expect(out.contains("logged in as Ada Leader, Hill Primary") && out.contains("logged in as Ben Leader, Vale Academy"))
        #expect(out.contains("North Partnership (shared)"), "\(out)")
        #expect(out.split(separator: "\n").contains { $0.hasPrefix("North Partnership ") && $0.contains(" shared ") }, "\(out)")
        #expect(out.contains("_(by Ben Leader (Vale Academy); evidence from monitoring)_"), "\(out)")
        #expect(out.contains("_(by Ada Leader (Hill Primary); hallmarks: Synergy)_"), "\(out)")
        #expect(
            out.split(separator: "\n").contains { $0.contains("Ben Leader (Vale Academy)") && $0.contains(#"inserted "Ben: agreed. ""#) },
            "\(out)")
        #expect(!out.contains("unsigned") && !out.contains("unverified device"), "\(out)")
        #expect(out.contains("INSIGHT AUTHOR"), "\(out)")
    }
}
