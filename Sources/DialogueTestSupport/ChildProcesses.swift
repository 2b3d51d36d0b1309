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

    /// Starts `executable` with standard input, output and error connected to files and
    /// returns its process id without waiting.
    public static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String], stdin: String, stdout: String, stderr: String
    ) throws -> pid_t {
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
        return pid
    }

    /// How a child ended.
    public struct Exit: Sendable, Equatable {
        /// The exit status, when it exited.
        public var status: Int32?
        /// The signal that ended it, if one did.
        public var signal: Int32?

        /// From a status `waitpid` filled in.
        init(waitStatus status: Int32) {
            let signal = status & 0x7F
            self.status = signal == 0 ? (status >> 8) & 0xFF : nil
            self.signal = signal == 0 ? nil : signal
        }
    }

    /// The child's exit if it has already ended (reaping it), `nil` while it runs.
    public static func exitIfEnded(_ pid: pid_t) -> Exit? {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        return Exit(waitStatus: status)
    }

    /// Waits for the child to end (off Swift concurrency's threads) and reaps it.
    public static func waitForExit(_ pid: pid_t) async -> Exit {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                continuation.resume(returning: Exit(waitStatus: status))
            }
        }
    }

    /// Runs `executable` to completion with standard input, output and error connected to
    /// files, and returns its exit status (128 + signal number if a signal ended it).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String], stdin: String, stdout: String, stderr: String
    ) async throws -> Int32 {
        let pid = try spawn(executable, arguments, environment: environment, stdin: stdin, stdout: stdout, stderr: stderr)
        let exit = await waitForExit(pid)
        return exit.status ?? 128 + (exit.signal ?? 0)
    }
}

/// A TCP port on 127.0.0.1 nobody listens on right now (bind port 0, read it, close).
public func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ChildProcesses.SpawnError(description: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw ChildProcesses.SpawnError(description: "bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw ChildProcesses.SpawnError(description: "getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
