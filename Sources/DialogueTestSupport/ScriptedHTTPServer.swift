import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (an ephemeral port) for tests that play a hostile
/// server: it records every request exactly as it arrived (headers included) and answers
/// with whatever `respond` returns, one connection at a time, closing each after its answer.
public final class ScriptedHTTPServer: Sendable {
    /// A request as received.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// Header names in lower case; a repeated header keeps its last value.
        public var headers: [String: String]
        public var body: [UInt8]
    }

    /// What to answer.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)" }
    /// Every request received so far, in order.
    public var requests: [Request] { state.received.withLock { $0 } }

    private let listener: Int32
    private let state = State()

    /// What the server's thread and the test share.
    private final class State: Sendable {
        let received = Mutex<[Request]>([])
        let stopped = Atomic<Bool>(false)
        let finished = Atomic<Bool>(false)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts listening; `respond` runs on the server's own thread, once per request.
    public init(respond: @escaping @Sendable (Request) -> Response) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw Failure(description: "socket() failed") }
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        guard bound == 0, named == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw Failure(description: "cannot listen on 127.0.0.1")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let state = state
        Thread.detachNewThread {
            while !state.stopped.load(ordering: .acquiring) {
                var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 50) > 0 else { continue }
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { continue }
                if let request = Self.read(connection) {
                    state.received.withLock { $0.append(request) }
                    Self.write(respond(request), to: connection)
                }
                close(connection)
            }
            close(listener)
            state.finished.store(true, ordering: .releasing)
        }
    }

    /// Stops accepting; returns once the server's thread has ended (bounded: a second).
    public func stop() {
        state.stopped.store(true, ordering: .releasing)
        let deadline = ContinuousClock.now + .seconds(1)
        while !state.finished.load(ordering: .acquiring), ContinuousClock.now < deadline { usleep(5_000) }
    }

    deinit { stop() }

    /// Reads one request: the head up to a blank line, then `Content-Length` bytes (or a
    /// chunked body). Answers `Expect: 100-continue` so curl sends the body at once.
    private static func read(_ connection: Int32) -> Request? {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            guard let chunk = receive(connection) else { return nil }
            buffer += chunk
            headEnd = buffer.firstRange(of: separator)?.upperBound
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self).split(separator: "\r\n")
        let requestLine = head.first?.split(separator: " ") ?? []
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["expect"]?.lowercased() == "100-continue" { sendAll(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), to: connection) }
        var body = Array(buffer[headEnd!...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while body.firstRange(of: Array("0\r\n\r\n".utf8)) == nil, let chunk = receive(connection) { body += chunk }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            while body.count < length, let chunk = receive(connection) { body += chunk }
        }
        return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
    }

    private static func receive(_ connection: Int32) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(connection, &chunk, chunk.count, 0)
        return count > 0 ? Array(chunk[..<count]) : nil
    }

    private static func write(_ response: Response, to connection: Int32) {
        var head = "HTTP/1.1 \(response.status) Scripted\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        sendAll(Array(head.utf8) + response.body, to: connection)
    }

    private static func sendAll(_ bytes: [UInt8], to connection: Int32) {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a client that hangs up (as one refusing a bomb does) must not kill the tests with SIGPIPE.
            let sent = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }
}
