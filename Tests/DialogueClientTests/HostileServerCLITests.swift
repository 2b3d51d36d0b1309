import DialogueGzip
import DialogueTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `dialogue-client sync` against a hostile server, as the attacks were seen: the real
/// binary, a scripted server on 127.0.0.1 recording what arrives.
@Suite("sync against a hostile server")
struct HostileServerCLITests {
    static let token = "dlg_cli_token_that_must_stay_home"

    static func loggedIn(_ scratch: Scratch, server: String) async throws -> Leader {
        let leader = Leader("hill", in: scratch)
        try await leader.ok(["init", "--space", UUID().uuidString])
        try await leader.ok(["sessions", "create", "--title", "Notes about a colleague"])
        // As a login would leave it: these servers play no registration (LoginTests covers it).
        try await leader.storeLogin(server: server, token: token)
        return leader
    }

    @Test("a 307 to another port is not followed: the token never arrives there, exit 69 with a clear message")
    func redirectDoesNotCarryTheToken() async throws {
        let scratch = Scratch()
        let recorder = try ScriptedHTTPServer { _ in .init(status: 401) }
        let target = "http://127.0.0.1:\(recorder.port)/v1/sync"
        let redirector = try ScriptedHTTPServer { _ in .init(status: 307, headers: [("Location", target)]) }
        let leader = try await Self.loggedIn(scratch, server: redirector.url)
        let result = try await leader.client(["sync", "--attempts", "1"])
        recorder.stop()
        #expect(recorder.requests.isEmpty, "the other port received: \(recorder.requests.map(\.headers))")
        #expect(result.status == 69)
        #expect(result.stderr.contains("redirected (307) to \(target)") && result.stderr.contains("token was not sent"), "\(result.stderr)")
    }

    @Test(
        "a gzip bomb is refused and the client's memory stays bounded, labelled Content-Encoding: gzip or not",
        arguments: [true, false])
    func gzipBombIsRefused(labelled: Bool) async throws {
        let scratch = Scratch()
        // 256 MiB of zeros in about 256 KiB: eight times the client's 32 MiB limit.
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 256 << 20))
        let headers = [("Content-Type", "application/json")] + (labelled ? [("Content-Encoding", "gzip")] : [])
        let server = try ScriptedHTTPServer { _ in .init(status: 200, headers: headers, body: bomb) }
        let leader = try await Self.loggedIn(scratch, server: server.url)
        let out = scratch.path("out")
        let err = scratch.path("err")
        let pid = try ChildProcesses.spawn(
            try builtBinary("dialogue-client"), ["sync", "--attempts", "1", "--replica", leader.replica],
            environment: childEnvironment(home: leader.home), stdin: "/dev/null", stdout: out, stderr: err)
        let (exit, peak) = try await Self.waitMeasuringPeak(pid)
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(exit.status == 69, "\(stderr)")
        #expect(server.requests.first?.headers["accept-encoding"] == "identity")
        if labelled {
            // Refused at its headers: the transport would inflate it out of the client's reach.
            #expect(stderr.contains("Content-Encoding 'gzip'"), "\(stderr)")
        } else {
            #expect(stderr.contains("larger than 33554432 bytes once inflated"), "\(stderr)")
        }
        // Before the bound, the whole 256 MiB was held (more than once) before being refused; a
        // labelled bomb, inflated by libcurl and queued for the delegate, still reached 323 MiB.
        #expect(peak < 200 << 20, "peak resident memory \(peak >> 20) MiB")
        print("gzip bomb (labelled: \(labelled)): peak RSS of dialogue-client sync \(peak >> 20) MiB, \(server.requests.count) requests")
    }

    @Test(
        "a redirect whose body never ends is cut at 64 KiB: sync exits 69 within seconds and its memory stays bounded",
        arguments: [(307, nil), (301, 268_435_456)] as [(Int, Int?)])
    func endlessRedirectBody(status: Int, declaredLength: Int?) async throws {
        let scratch = Scratch()
        // 64 KiB pieces at line rate, chunked for ever or under a 256 MiB Content-Length.
        let endless = ScriptedHTTPServer.Stream(piece: [UInt8](repeating: 0x20, count: 64 << 10), declaredLength: declaredLength)
        let server = try ScriptedHTTPServer { _ in .init(status: status, headers: [("Location", "/v1/sync")], stream: endless) }
        defer { server.stop() }
        let leader = try await Self.loggedIn(scratch, server: server.url)
        let err = scratch.path("err")
        let started = ContinuousClock.now
        let pid = try ChildProcesses.spawn(
            try builtBinary("dialogue-client"), ["sync", "--attempts", "1", "--replica", leader.replica],
            environment: childEnvironment(home: leader.home), stdin: "/dev/null", stdout: scratch.path("out"), stderr: err)
        // Before, URLSession kept the body where nothing could stop it: 162 MiB after 120 s and growing.
        let (exit, peak) = try await Self.waitMeasuringPeak(pid, upTo: .seconds(60))
        let elapsed = ContinuousClock.now - started
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(exit.status == 69, "\(stderr)")
        #expect(stderr.contains("larger than 65536 bytes"), "\(stderr)")
        #expect(peak < 100 << 20, "peak resident memory \(peak >> 20) MiB")
        print("endless \(status) body: dialogue-client sync exited \(exit.status) after \(elapsed), peak RSS \(peak >> 20) MiB")
    }

    /// Waits for the child (bounded), reading its peak resident memory (`VmHWM`) from /proc
    /// as it runs. `wait4`'s `ru_maxrss` cannot be used: Linux carries the parent's (this
    /// test process's) high-water mark across posix_spawn's vfork and exec.
    static func waitMeasuringPeak(_ pid: pid_t, upTo limit: Duration = .seconds(120)) async throws -> (ChildProcesses.Exit, Int) {
        var peak = 0
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kilobytes = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
            {
                peak = max(peak, kilobytes * 1024)
            }
            if let exit = ChildProcesses.exitIfEnded(pid) { return (exit, peak) }
            try await Task.sleep(for: .milliseconds(5))
        }
        kill(pid, SIGKILL)
        throw SetupFailure(description: "dialogue-client sync did not end within \(limit) (peak RSS so far \(peak >> 20) MiB)")
    }
}
