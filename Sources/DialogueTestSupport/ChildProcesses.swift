import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Starting child processes from tests.
///
/// Foundation's `Process.run()` on Linux has crashed here (a bad read inside its own
/// set-up) when many short-lived children start while other tests run in parallel, so
/// short-lived children go through `posix_spawn` directly, and longer-lived ones started
/// with `Process` are launched one at a time.
public enum ChildProcesses {
    private static let launching = Mutex(())

    /// Runs `process`, never at the same time as another launch through this function.
    public static func launch(_ process: Process) throws {
        try launching.withLock { _ in try process.run() }
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `executable` to completion with standard input, output and error connected to
    /// files, and returns its exit status (128 + signal number if a signal ended it).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], stdin: String, stdout: String, stderr: String
    ) async throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(result)))") }
        let child = pid
        return await withCheckedContinuation { continuation in
            // waitpid blocks: keep it off Swift concurrency's few threads.
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0, errno == EINTR {}
                let signal = status & 0x7F
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
            }
        }
    }
}
