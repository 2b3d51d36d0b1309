import DialogueServer
import Foundation
import Glibc
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization

/// A plain TCP connection to 127.0.0.1, to behave as no HTTP client would (send nothing,
/// half a header, a stalled body).
final class PeerSocket: @unchecked Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSetupFailure(description: "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(descriptor)
            throw TestSetupFailure(description: "connect() failed: errno \(errno)")
        }
    }

    deinit { close(descriptor) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the peer closes, or `timeout` passes; returns what was read and whether
    /// the connection ended. (The blocking reads run on a dispatch queue: on the
    /// cooperative pool they would starve the in-process server of threads.)
    func readUntilClosed(timeout: Duration) async -> (text: String, closed: Bool) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.blockingRead(timeout: timeout)) }
        }
    }

    private func blockingRead(timeout: Duration) -> (text: String, closed: Bool) {
        let deadline = ContinuousClock.now + timeout
        var received: [UInt8] = []
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let milliseconds = Int32(max(1, min(Double(Int32.max), Double(left / .milliseconds(1)))))
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (String(decoding: received, as: UTF8.self), true) }
            received += buffer[0..<count]
        }
        return (String(decoding: received, as: UTF8.self), false)
    }

    /// Reads what arrives within `timeout` (without waiting for a close).
    func read(for timeout: Duration) async -> String {
        await readUntilClosed(timeout: timeout).text
    }
}

/// A log handler that keeps every line, for tests that check what is logged.
struct CapturingLogHandler: LogHandler {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    final class Lines: Sendable {
        let lines = Mutex<[Line]>([])
        var all: [Line] { lines.withLock { $0 } }
    }

    let sink: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String,
        line: UInt
    ) {
        let merged = metadata.merging(explicit ?? [:]) { $1 }
        sink.lines.withLock { $0.append(Line(level: level, message: "\(message)", metadata: merged.mapValues { "\($0)" })) }
    }

    /// A logger whose lines land in the returned sink.
    static func logger() -> (Logger, Lines) {
        let sink = Lines()
        return (Logger(label: "dialogue.server.captured") { _ in CapturingLogHandler(sink: sink) }, sink)
    }
}

/// Runs `body` against ``SyncServer/application(host:port:onServerRunning:)`` on an
/// ephemeral port of 127.0.0.1 (the limits at the door apply), over a fresh SQLite store
/// with the account fixture. (Not `app.test(.live)`: it drops the connection cap.)
func withDoorServer<T: Sendable>(
    limits: ServerLimits, logger: Logger = quietLogger("dialogue.server.door-test"),
    _ body: @escaping @Sendable (_ port: Int, _ accounts: AccountFixture) async throws -> T
) async throws -> T {
    let directory = ServerTestDirectory()
    let store = try SQLiteSyncStore(path: directory.path("server.sqlite"))
    let accounts = try await AccountFixture.make(store)
    let server = SyncServer(service: SyncService(store: store, limits: limits, logger: logger), metrics: nil, logger: logger)
    let (ports, portSink) = AsyncStream<Int>.makeStream()
    let app = server.application(host: "127.0.0.1", port: 0) { channel in
        portSink.yield(channel.localAddress?.port ?? 0)
        portSink.finish()
    }
    let running = Task { try await app.run() }
    defer { running.cancel() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next(), port > 0 else { throw TestSetupFailure(description: "the server did not start") }
    let result = try await body(port, accounts)
    running.cancel()
    _ = await running.result
    try await store.close()
    _ = directory
    return result
}
