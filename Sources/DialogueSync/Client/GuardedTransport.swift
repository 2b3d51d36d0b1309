import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP exchanges of a ``SyncClient``, guarded against a hostile or compromised server.
/// Built on AsyncHTTPClient on every platform (docs/RELIABILITY.md, "The client", says why
/// not URLSession: on Linux it buffers a redirect's body where nothing can bound it).
///
/// - a redirect is never followed here (`redirectConfiguration: .disallow`): the 3xx comes
///   back as the answer, and ``SyncClient`` decides (it re-sends a 307/308 within the same
///   origin only, so the token never goes anywhere else);
/// - nothing is inflated here (`decompression: .disabled`), and an answer with a
///   `Content-Encoding` is refused at its headers, before a byte of its body is read
///   (``SyncClient`` asks for `identity`, so an honest server never sends one);
/// - every body, of every status (3xx included), is counted as it streams and the transfer
///   stopped as soon as it passes `maxBodyBytes`; one that announces more is stopped at its
///   headers. A redirect's body is counted and dropped, never kept;
/// - each exchange has one deadline, `timeout` after it starts, that holds while bytes flow:
///   a body that drips forever ends as ``Failed`` ("timed out").
///
/// One `HTTPClient` per transport (its connection pool kept between the requests of a sync),
/// on the process's shared event loop group, so no thread is started per client; it is shut
/// down, without blocking, when the transport (the last copy of its ``SyncClient``) goes away.
final class GuardedTransport: Sendable {
    private let client: HTTPClient
    /// `timeout` for AsyncHTTPClient, whose own deadline ends at the answer's headers.
    private let headDeadline: TimeAmount
    let maxBodyBytes: Int
    let timeout: Duration

    init(maxBodyBytes: Int, timeout: TimeInterval) {
        self.maxBodyBytes = maxBodyBytes
        let milliseconds = Int64((min(max(0, timeout), 1e9) * 1000).rounded(.up))
        self.timeout = .milliseconds(milliseconds)
        headDeadline = .milliseconds(milliseconds)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled)
        // A failed connection fails the request at once; SyncClient has its own retries and backoff.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    // The callback form does not block (syncShutdown would, and must not run on the
    // cooperative pool); it keeps the client alive until its connections are closed.
    deinit { client.shutdown { _ in } }

    /// What is sent: always a POST.
    struct Request: Sendable {
        var url: URL
        var headers: [(name: String, value: String)]
        var body: [UInt8]
    }

    /// What came back: the whole body, at most `maxBodyBytes` (empty for a 3xx).
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]

        /// The first value of a header, by name in any case.
        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    /// The body passed (or announced more than) `limit` (`maxBodyBytes`, or
    /// ``redirectBodyLimit`` for a 3xx); the transfer was stopped there.
    struct TooLarge: Error {
        var limit: Int
    }

    /// A redirect's body is read by nobody: past this, the transfer is stopped (an honest
    /// server's is a line of HTML, a hostile one's may never end).
    static let redirectBodyLimit = 64 << 10

    /// The answer came with this `Content-Encoding`; the transfer was stopped at its headers.
    struct Encoded: Error {
        var encoding: String
    }

    /// The exchange failed before a whole answer arrived (no connection, connection lost,
    /// TLS, the deadline): worth another attempt. `description` says why, for a person.
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `request` and returns the answer, within `timeout` from now whatever the server
    /// does. Throws ``TooLarge``, ``Encoded``, ``Failed`` or `CancellationError`.
    func send(_ request: Request) async throws -> Answer {
        let timeout = timeout
        do {
            return try await withThrowingTaskGroup(of: Answer?.self) { group in
                group.addTask { try await self.exchange(request) }
                // AsyncHTTPClient's own deadline ends at the answer's headers; this one covers the body too.
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard case let answer?? = try await group.next() else {
                    throw Failed(description: "the request timed out after \(timeout)")
                }
                return answer
            }
        } catch let error as HTTPClientError {
            if Task.isCancelled || error == .cancelled { throw CancellationError() }
            switch error {
            case .deadlineExceeded, .readTimeout: throw Failed(description: "the request timed out after \(timeout)")
            case .connectTimeout: throw Failed(description: "the connection timed out")
            default: throw Failed(description: error.shortDescription.lowercased())
            }
        } catch let error as TooLarge {
            throw error
        } catch let error as Encoded {
            throw error
        } catch let error as Failed {
            throw error
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            throw Failed(description: "\(error)")  // connection refused, reset, TLS…: NIO's own words
        }
    }

    private func exchange(_ request: Request) async throws -> Answer {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = .POST
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        let response = try await client.execute(outgoing, timeout: headDeadline)
        // Leaving without reading `response.body` cancels the transfer and closes the connection.
        if let encoding = response.headers.first(name: "Content-Encoding")?.trimmingCharacters(in: CharacterSet.whitespaces),
            !encoding.isEmpty, encoding.lowercased() != "identity"
        {
            throw Encoded(encoding: encoding)
        }
        let status = Int(response.status.code)
        let kept = !(300...399).contains(status)  // a redirect's body is read by nobody: counted, not kept
        let limit = kept ? maxBodyBytes : min(maxBodyBytes, Self.redirectBodyLimit)
        if let announced = response.headers.first(name: "Content-Length").flatMap(Int.init), announced > limit {
            throw TooLarge(limit: limit)
        }
        var body: [UInt8] = []
        var received = 0
        for try await piece in response.body {
            received += piece.readableBytes
            guard received <= limit else { throw TooLarge(limit: limit) }
            if kept { body.append(contentsOf: piece.readableBytesView) }
        }
        return Answer(status: status, headers: response.headers, body: body)
    }
}
