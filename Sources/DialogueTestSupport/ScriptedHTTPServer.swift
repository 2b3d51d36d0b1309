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
        /// A body sent piece by piece instead of `body`, for a server that keeps talking.
        public var stream: Stream?

        public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], stream: Stream? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.stream = stream
        }
    }

    /// A body that arrives as `piece` over and over, `interval` apart (zero: as fast as the
    /// connection takes it), until `declaredLength` bytes are sent, or for ever when it is
    /// nil (chunked); it stops when the client hangs up or the server is stopped.
    public struct Stream: Sendable {
        public var piece: [UInt8]
        public var interval: Duration
        /// The `Content-Length` announced; nil: `Transfer-Encoding: chunked`, never ending.
        public var declaredLength: Int?

        public init(piece: [UInt8], interval: Duration = .zero, declaredLength: Int?) {
            self.piece = piece
            self.interval = interval
            self.declaredLength = declaredLength
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
                if let request = Self.read(connection, until: state) {
                    state.received.withLock { $0.append(request) }
                    Self.write(respond(request), to: connection, until: state)
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
    private static func read(_ connection: Int32, until state: State) -> Request? {
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
        if headers["expect"]?.lowercased() == "100-continue" {
            sendAll(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), to: connection, until: state)
        }
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

    private static func write(_ response: Response, to connection: Int32, until state: State) {
        var head = "HTTP/1.1 \(response.status) Scripted\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        guard let stream = response.stream else {
            head += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
            sendAll(Array(head.utf8) + response.body, to: connection, until: state)
            return
        }
        head += stream.declaredLength.map { "Content-Length: \($0)\r\n" } ?? "Transfer-Encoding: chunked\r\n"
        guard sendAll(Array((head + "Connection: close\r\n\r\n").utf8), to: connection, until: state) else { return }
        let chunk = Array((String(stream.piece.count, radix: 16) + "\r\n").utf8) + stream.piece + Array("\r\n".utf8)
        var left = stream.declaredLength ?? Int.max
        while left > 0, !state.stopped.load(ordering: .acquiring) {
            let piece = stream.declaredLength == nil ? chunk : Array(stream.piece.prefix(left))
            guard sendAll(piece, to: connection, until: state) else { return }
            if stream.declaredLength != nil { left -= piece.count }
            if stream.interval > .zero { Thread.sleep(forTimeInterval: Double(stream.interval / .microseconds(1)) / 1e6) }
        }
    }

    /// Sends every byte; false when the client hung up or the server was stopped. (A send
    /// that waits a second for a client that reads nothing looks at `stopped` again.)
    @discardableResult
    private static func sendAll(_ bytes: [UInt8], to connection: Int32, until state: State) -> Bool {
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a client that hangs up (as one refusing a bomb does) must not kill the tests with SIGPIPE.
            let sent = bytes[offset...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                offset += sent
            } else if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR, !state.stopped.load(ordering: .acquiring) {
                continue
            } else {
                return false
            }
        }
        return true
    }
}
