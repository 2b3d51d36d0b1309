import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The HTTP exchanges of a ``SyncClient``, guarded against a hostile or compromised server:
///
/// - a redirect is never followed here: URLSession would re-send every header, the
///   `Authorization` with the token included, to whatever host the `Location` names (and
///   on Linux it drops the body of a 307). The 3xx comes back as the answer, and
///   ``SyncClient`` decides (it re-sends a 307/308 within the same origin only);
/// - an answer with a `Content-Encoding` is refused as soon as its headers arrive: URLSession
///   (libcurl on Linux, CFNetwork on Darwin) would inflate it before our code sees a byte.
///   ``SyncClient`` asks for `identity`, so an honest server never sends one;
/// - a body is collected chunk by chunk and the task cancelled as soon as it passes
///   `maxBodyBytes`;
/// - on Linux the delegate runs on an ``InlineQueue``: libcurl keeps inflating a body after
///   the task is cancelled (nothing stops its read loop from a delegate), and on a real
///   operation queue the inflated chunks pile up faster than the delegate drops them (a
///   256 KiB gzip bomb held 323 MiB). Run inline, each chunk is dropped as it is made.
final class GuardedTransport: Sendable {
    private let session: URLSession
    private let guardian: Guardian

    init(maxBodyBytes: Int, timeout: TimeInterval) {
        guardian = Guardian(maxBodyBytes: maxBodyBytes)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpShouldSetCookies = false
        #if canImport(FoundationNetworking)
            session = URLSession(configuration: configuration, delegate: guardian, delegateQueue: InlineQueue())
        #else
            session = URLSession(configuration: configuration, delegate: guardian, delegateQueue: nil)
        #endif
    }

    // The session keeps its delegate until it is invalidated.
    deinit { session.finishTasksAndInvalidate() }

    /// The body passed `maxBodyBytes`; the transfer was stopped there.
    struct TooLarge: Error {}

    /// The answer came with this `Content-Encoding`; the transfer was stopped at its headers.
    struct Encoded: Error {
        var encoding: String
    }

    /// Sends `request` and returns the whole body (at most `maxBodyBytes`) and the response.
    func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        let task = session.dataTask(with: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guardian.start(task, continuation)
                task.resume()
                // Cancelled before the task existed: the handler below had nothing to cancel.
                if Task.isCancelled { task.cancel() }
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// The session's delegate: per-task bodies, no redirects, the size bound.
    private final class Guardian: NSObject, URLSessionDataDelegate, Sendable {
        let maxBodyBytes: Int
        private let exchanges = Mutex<[Int: Exchange]>([:])

        struct Exchange {
            var continuation: CheckedContinuation<(Data, HTTPURLResponse), any Error>
            var body = Data()
            var tooLarge = false
            var encoding: String?
        }

        init(maxBodyBytes: Int) {
            self.maxBodyBytes = maxBodyBytes
        }

        func start(_ task: URLSessionTask, _ continuation: CheckedContinuation<(Data, HTTPURLResponse), any Error>) {
            exchanges.withLock { $0[task.taskIdentifier] = Exchange(continuation: continuation) }
        }

        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
        ) {
            completionHandler(nil)  // the task completes with the 3xx itself
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
        ) {
            let encoding = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Encoding")?
                .trimmingCharacters(in: .whitespaces)
            guard let encoding, !encoding.isEmpty, encoding.lowercased() != "identity" else {
                completionHandler(.allow)
                return
            }
            exchanges.withLock { $0[dataTask.taskIdentifier]?.encoding = encoding }
            completionHandler(.cancel)
            Self.cancel(dataTask)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let tooLarge = exchanges.withLock { exchanges -> Bool in
                guard var exchange = exchanges[dataTask.taskIdentifier], !exchange.tooLarge, exchange.encoding == nil else {
                    return false
                }
                guard exchange.body.count + data.count <= maxBodyBytes else {
                    exchange.tooLarge = true
                    exchange.body = Data()
                    exchanges[dataTask.taskIdentifier] = exchange
                    return true
                }
                exchanges[dataTask.taskIdentifier] = nil  // one owner of the body while it grows, so append does not copy
                exchange.body.append(data)
                exchanges[dataTask.taskIdentifier] = exchange
                return false
            }
            if tooLarge { Self.cancel(dataTask) }
        }

        /// Cancels `task` from another thread: on Linux, `cancel()` waits for the session's work
        /// queue, the very queue an ``InlineQueue`` runs this delegate on.
        private static func cancel(_ task: URLSessionTask) {
            DispatchQueue.global().async { task.cancel() }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            guard let exchange = exchanges.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
            if let encoding = exchange.encoding {
                exchange.continuation.resume(throwing: Encoded(encoding: encoding))
            } else if exchange.tooLarge {
                exchange.continuation.resume(throwing: TooLarge())
            } else if let error {
                exchange.continuation.resume(throwing: error)
            } else if let response = task.response as? HTTPURLResponse {
                exchange.continuation.resume(returning: (exchange.body, response))
            } else {
                exchange.continuation.resume(throwing: URLError(.badServerResponse))
            }
        }
    }
}

#if canImport(FoundationNetworking)
    /// A delegate queue that runs each callback at once, on the thread that hands it over:
    /// swift-corelibs-foundation's URLSession calls `addOperation` from libcurl's write
    /// callback, so the delegate sees (and can drop) each inflated chunk before libcurl
    /// makes the next one, instead of finding them all queued in memory.
    private final class InlineQueue: OperationQueue, @unchecked Sendable {
        override func addOperation(_ block: @Sendable @escaping () -> Void) { block() }
        override func addOperation(_ operation: Operation) { operation.start() }
    }
#endif
