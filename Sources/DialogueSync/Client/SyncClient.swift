import DialogueGzip
import DialogueModel
import Foundation
import Logging

/// Syncs a ``Replica`` with a Dialogue server over HTTP (`POST /v1/sync`).
///
/// Each round trip pushes a page of what the server lacks and pulls a page of what the
/// replica lacks; rounds repeat until neither side has anything more. Network errors,
/// 5xx answers and 409 (a concurrent store) are retried with exponential backoff and
/// jitter; other 4xx never are. An interrupted sync resumes from what the server says it
/// holds, so nothing the server acknowledged is sent again. Cancelling the task stops between (or during) requests.
///
/// The client does not trust its server: the token is sent to the configured origin only
/// (a redirect elsewhere is refused, `SyncClientError/redirectRefused(from:to:)`), an answer
/// larger than ``Configuration/maxResponseBytes`` once inflated is refused
/// (``SyncClientError/responseTooLarge(limit:)``), and plain `http://` to another machine is
/// refused unless ``Configuration/allowInsecureHTTP`` (``SyncClientError/insecureServer(_:)``).
public struct SyncClient: Sendable {
    /// Where and how to sync.
    public struct Configuration: Sendable {
        public var server: URL
        public var token: String
        /// Accept `http://` to a host that is not loopback (the token and notes cross the network in clear).
        public var allowInsecureHTTP = false
        /// Largest answer accepted, in bytes after gzip decoding. A page past it is asked
        /// again in smaller pages; a single change past it stops the sync.
        public var maxResponseBytes = 32 << 20
        /// Changes pushed per request.
        public var pushBatch = 1000
        /// Changes asked for per space per response.
        public var pageSize = SyncProtocol.defaultPageSize
        public var retry = RetryPolicy()
        /// Gzip request bodies larger than 1 KiB.
        public var compressRequests = true
        /// Deadline of each request, its answer's body included: a server that sends slowly
        /// for longer fails the request as timed out (then retried like a network failure).
        public var timeout: TimeInterval = 60

        public init(server: URL, token: String) {
            self.server = server
            self.token = token
        }
    }

    /// Backoff for retryable failures: `base × 2^attempt`, capped, times a random factor in 0.5…1.
    public struct RetryPolicy: Sendable {
        public var maxAttempts = 6
        public var baseDelay: Duration = .milliseconds(200)
        public var maxDelay: Duration = .seconds(10)

        public init() {}

        func delay(afterAttempt attempt: Int, jitter: Double) -> Duration {
            let exponential = baseDelay * Int(1 << min(attempt, 20))
            return min(exponential, maxDelay) * jitter
        }
    }

    /// What a sync is doing, for a progress display.
    public enum Progress: Sendable, Equatable {
        /// A round trip finished: totals so far for the space.
        case exchanged(space: SpaceID, pushed: Int, pulled: Int)
        /// A request failed and will be retried after `delay`.
        case retrying(attempt: Int, delay: Duration, reason: String)
        /// The space is up to date.
        case finished(space: SpaceID)

        /// One line for a progress display, naming spaces as `names` does ("syncing North
        /// Partnership: sent 3, received 0"); untrusted text is the caller's to escape.
        public func line(names: SpaceNames) -> String {
            switch self {
            case .exchanged(let space, let pushed, let pulled):
                "syncing \(names.space(space).displayName): sent \(pushed), received \(pulled)"
            case .retrying(let attempt, let delay, let reason): "retrying (\(attempt)) in \(delay): \(reason)"
            case .finished(let space): "synced \(names.space(space).displayName)"
            }
        }
    }

    /// What a sync did, per space.
    public struct Summary: Sendable, Equatable {
        public var pushed = 0
        public var pulled = 0
        public var requests = 0
        public var spaces: [SpaceID] = []
        /// Changes of other devices from before signing that cannot be verified: not
        /// pushed (the server would refuse them), they stay on this device
        /// (``Replica/changesHeldBack(in:serverHas:)``; docs/TRUST.md, "Migration").
        public var unverifiable = 0
        /// Changes that depend on those, not pushed until their authors push them signed.
        public var waiting = 0
        /// Spaces the server refused as `space_not_permitted` (the others synced).
        public var notPermitted: [SpaceID] = []
        /// Of those, the spaces this replica stopped holding, their content erased
        /// (``Replica/leave(_:)``): no longer in the member's verified space directory, and
        /// held from the server or from other devices. A space only this device ever wrote,
        /// never synced, is kept (refused, not left: its notes exist nowhere else).
        public var left: [Replica.LeftSpace] = []
    }

    public let configuration: Configuration
    /// The guarded HTTP session, or why the server's address was refused (thrown by ``sync(_:spaces:progress:)``).
    let transport: Result<GuardedTransport, SyncClientError>
    let logger: Logger
    let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameters:
    ///   - configuration: the server, the token, and the limits of what is accepted.
    ///   - logger: where the client logs; it never prints.
    ///   - sleep: how to wait between retries (injected in tests).
    public init(
        configuration: Configuration, logger: Logger = Logger(label: "dialogue.sync-client"),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.sleep = sleep
        transport = Result { () throws(SyncClientError) in
            _ = try ServerAddress(configuration.server, allowInsecureHTTP: configuration.allowInsecureHTTP)
            return GuardedTransport(maxBodyBytes: configuration.maxResponseBytes, timeout: configuration.timeout)
        }
    }

    /// Syncs the given spaces (default: every space the replica holds) until both sides
    /// hold the same changes.
    ///
    /// Sync needs a login: a replica that has not pinned a server key
    /// (``registerDevice(_:replacingServerKey:)``) can neither sign what it pushes in a way
    /// the server accepts nor verify what it receives, so it is refused with
    /// `SyncClientError/notLoggedIn` before any request is sent.
    @discardableResult
    public func sync(
        _ replica: Replica, spaces: [SpaceID]? = nil, progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws(SyncClientError) -> Summary {
        _ = try transport.get()  // an address refused before anything is sent
        var summary = Summary()
        do {
            guard try replica.serverKeyRing() != nil else { throw SyncClientError.notLoggedIn(replica.id) }
            // A replica older than signing signs its own earlier changes (its chain starts at
            // counter 1 over them) before they can be pushed.
            try await replica.signUnsignedOwnChanges()
        } catch let error as SyncClientError {
            throw error
        } catch let error as ReplicaError {
            throw .local(error)
        } catch {
            throw .local(.storage("\(error)", underlying: error))
        }
        var chosen = spaces ?? []
        if spaces == nil {
            do {
                // The member's personal space is held like the directory's other spaces.
                try await replica.holdPersonalSpace()
                chosen = try replica.heldVectors().keys.sorted()
            } catch { throw .local(error) }
        }
        for space in chosen { try await syncAllowingRefusal(space, of: replica, into: &summary, progress: progress) }
        if spaces == nil { try await syncNewlyListedPersonalSpace(of: replica, into: &summary, progress: progress) }
        if !summary.notPermitted.isEmpty { try await leaveWithdrawnSpaces(of: replica, into: &summary) }
        return summary
    }

    /// Syncs one space; a `space_not_permitted` refusal is recorded in the summary (the
    /// other spaces still sync), any other failure thrown.
    private func syncAllowingRefusal(
        _ space: SpaceID, of replica: Replica, into summary: inout Summary, progress: (@Sendable (Progress) -> Void)?
    ) async throws(SyncClientError) {
        do {
            try await sync(space, of: replica, into: &summary, progress: progress)
            if !summary.spaces.contains(space) { summary.spaces.append(space) }
        } catch {
            guard error.isRefusal(status: 403, serverCode: SyncErrorCode.spaceNotPermitted.rawValue) else { throw error }
            summary.notPermitted.append(space)
        }
    }

    /// The member's personal space when the directory this sync brought lists it for the
    /// first time (a device logged in before personal spaces): held and synced now.
    private func syncNewlyListedPersonalSpace(
        of replica: Replica, into summary: inout Summary, progress: (@Sendable (Progress) -> Void)?
    ) async throws(SyncClientError) {
        let personal: SpaceID?
        do { personal = try await replica.holdPersonalSpace() } catch { throw .local(error) }
        guard let personal, !summary.spaces.contains(personal), !summary.notPermitted.contains(personal) else { return }
        try await syncAllowingRefusal(personal, of: replica, into: &summary, progress: progress)
    }

    /// Puts in the member's personal space the personal reflection prompts it has never held
    /// (``Replica/seedPersonalReflection()``) and sends them, once the space has synced with
    /// this server: a member's second device then finds the first one's prompts (and
    /// deletions) instead of writing them again. ``sync(_:spaces:progress:)`` never writes;
    /// an app calls this after it (`dialogue-client sync` does). Returns how many were added.
    @discardableResult
    public func seedPersonalReflection(_ replica: Replica) async throws(SyncClientError) -> Int {
        let server = configuration.server.absoluteString
        let seeded: Int
        let personal: SpaceID
        do {
            guard let held = try await replica.holdPersonalSpace(),
                try replica.lastSyncs().contains(where: { $0.server == server && $0.space == held })
            else { return 0 }
            personal = held
            seeded = try await replica.seedPersonalReflection()
        } catch { throw .local(error) }
        if seeded > 0 {
            var summary = Summary()
            try await sync(personal, of: replica, into: &summary, progress: nil)
        }
        return seeded
    }

    /// Stops holding the spaces the server refused that the member's space directory no
    /// longer lists (docs/TRUST.md: devices learn who may hold what from the directory).
    /// The directory came with the other spaces' answers; when none answered, it is asked
    /// for (a login's registration, which changes nothing on the server).
    private func leaveWithdrawnSpaces(of replica: Replica, into summary: inout Summary) async throws(SyncClientError) {
        if summary.spaces.isEmpty { _ = try await registerDevice(replica) }
        let server = configuration.server.absoluteString
        do {
            let directory = try replica.spaceDirectory()
            let synced = Set(try replica.lastSyncs().filter { $0.server == server }.map(\.space))
            let vectors = try replica.heldVectors()
            for space in summary.notPermitted where directory?.entry(for: space) == nil {
                let fromOthers = vectors[space]?.lastDots.contains { $0.replica != replica.id } ?? false
                guard synced.contains(space) || fromOthers else { continue }
                summary.left.append(try await replica.leave(space))
                logger.notice("left a space no longer in the space directory", metadata: ["space": "\(space)"])
            }
        } catch {
            throw .local(error)
        }
    }

    private func sync(
        _ space: SpaceID, of replica: Replica, into summary: inout Summary, progress: (@Sendable (Progress) -> Void)?
    ) async throws(SyncClientError) {
        var serverHas: VersionVector?
        var pushed = 0
        var pulled = 0
        let server = configuration.server.absoluteString
        var cursor: Int64
        do { cursor = try replica.syncCursor(of: space, with: server) } catch { throw .local(error) }
        var previousCursor = cursor
        var idleRounds = 0
        var pageSize = configuration.pageSize
        var heldBack = HeldBackChanges()
        while true {
            if Task.isCancelled { throw .cancelled }
            let have: VersionVector
            var push: [Change] = []
            var pushHeads: [ChainHead] = []
            do {
                have = try replica.heldVectors()[space] ?? VersionVector()
                // Scan the log for what the server lacks only when the vectors say it lacks something.
                if let serverHas, have.lastDots.contains(where: { $0.counter > serverHas[$0.replica] }) {
                    // What the server would refuse stays here (unsigned changes of others from before signing).
                    heldBack = try replica.changesHeldBack(in: space, serverHas: serverHas)
                    // A page ends at a signed head of each author in it, so each run verifies at the server.
                    let page = try replica.changes(
                        in: space, missingFrom: serverHas, limit: configuration.pushBatch, withholding: heldBack.from)
                    (push, pushHeads) = (page.changes, page.heads)
                }
            } catch {
                throw .local(error)
            }
            // The certificates held of the devices whose changes it holds: the server sends only the others.
            let certified: [ReplicaID: Int64]
            let people: String?
            do {
                certified = try replica.certificatesHeld().filter { have[$0.key] > 0 }
                people = try replica.peopleDirectory()?.contentDigest
            } catch { throw .local(error) }
            let request = SyncRequest(
                replica: replica.id,
                spaces: [
                    .init(space: space, have: have, changes: push, heads: pushHeads, binary: true, after: cursor, certified: certified)
                ],
                limit: pageSize, binary: true, people: people)
            let response: SyncResponse
            do {
                response = try await send(request, progress: progress)
            } catch let error where error.code == .responseTooLarge && pageSize > 1 {
                // Honest pages of large texts can pass the bound: ask again for fewer changes
                // (the push is idempotent). Each attempt is bounded, and there are at most five.
                pageSize = max(1, pageSize / 10)
                logger.notice("answer too large; asking for smaller pages", metadata: ["page.size": "\(pageSize)"])
                continue
            }
            summary.requests += 1
            guard let result = response.spaces.first(where: { $0.space == space }) else {
                throw .protocolViolation("the response does not mention space \(space)")
            }
            let received: [Change]
            let heads: [ChainHead]
            do { (received, heads) = (try result.allChanges(), try result.allHeads()) } catch {
                throw .protocolViolation("the changes in the answer cannot be read: \(error)")
            }
            // The server's statements first: nothing is merged from an answer that does not verify.
            try await adoptStatements(of: response, result, into: replica)
            if !received.isEmpty {
                try await merge(received, heads: heads, result, into: replica)
            }
            cursor = result.cursor
            pushed += push.count
            pulled += received.count
            summary.pushed += push.count
            summary.pulled += received.count
            progress?(.exchanged(space: space, pushed: pushed, pulled: pulled))
            // A server that keeps answering `more` without sending anything would loop for ever.
            if push.isEmpty, received.isEmpty, result.cursor == previousCursor {
                idleRounds += 1
                if idleRounds >= 3 { throw .protocolViolation("the server says there is more but sends nothing; stopping") }
            } else {
                idleRounds = 0
            }
            previousCursor = result.cursor
            let previous = serverHas
            serverHas = result.serverHas.vector
            // Done when the server sent everything and holds everything we hold.
            let held: VersionVector
            do { held = try replica.heldVectors()[space] ?? VersionVector() } catch { throw .local(error) }
            let serverLacks = heldBack.pushable(of: held).lastDots.contains { $0.counter > serverHas![$0.replica] }
            if !result.more && !serverLacks { break }
            if push.isEmpty && !result.more && previous == serverHas && previous != nil {
                throw .protocolViolation("the server neither accepts nor sends changes; stopping to avoid a loop")
            }
        }
        do { try await replica.recordSync(of: space, with: server, cursor: cursor) } catch { throw .local(error) }
        if !heldBack.isEmpty {
            summary.unverifiable += heldBack.unverifiable
            summary.waiting += heldBack.waiting
            logger.notice(
                "changes of other devices from before signing cannot be verified and stay on this device",
                metadata: ["space.id": "\(space)", "unverifiable": "\(heldBack.unverifiable)", "waiting": "\(heldBack.waiting)"])
        }
        progress?(.finished(space: space))
    }

    /// Sends one sync request, retrying network failures, 5xx answers, a 409 (a concurrent
    /// store) and a 429 whose `Retry-After` is within the retry policy's `maxDelay`.
    func send(_ request: SyncRequest, progress: (@Sendable (Progress) -> Void)?) async throws(SyncClientError) -> SyncResponse {
        try await exchange(request, at: "v1/sync", answer: SyncResponse.self, retryingConflicts: true, progress: progress)
    }

    /// POSTs `request` as JSON to `path` with the token and decodes the 200 answer, through
    /// the guarded transport: retries as ``send(_:progress:)`` does (409 only when
    /// `retryingConflicts`), redirects only within the origin, answers bounded.
    func exchange<Request: Encodable, Answer: Decodable>(
        _ request: Request, at path: String, answer: Answer.Type, retryingConflicts: Bool, progress: (@Sendable (Progress) -> Void)?
    ) async throws(SyncClientError) -> Answer {
        let transport = try transport.get()
        var body: Data
        do { body = try JSONEncoder().encode(request) } catch { throw .protocolViolation("cannot encode the request: \(error)") }
        var headers = [
            // identity: an encoded answer is refused unread (see GuardedTransport).
            ("Content-Type", "application/json"), ("Accept-Encoding", "identity"), ("Authorization", "Bearer \(configuration.token)"),
        ]
        if configuration.compressRequests, body.count > 1024 {
            body = Data(Gzip.compress([UInt8](body)))
            headers.append(("Content-Encoding", "gzip"))
        }
        var outgoing = GuardedTransport.Request(
            url: configuration.server.appendingPathComponent(path), headers: headers.map { (name: $0.0, value: $0.1) }, body: [UInt8](body))
        var attempt = 0
        var redirects = 0
        while true {
            if Task.isCancelled { throw .cancelled }
            let reason: String
            // The last transport failure, kept in `unreachable` for apps that want it.
            var cause: (any Error)? = nil
            // How long the server asked us to wait (429's Retry-After), if longer than the backoff.
            var serverDelay: Duration = .zero
            do {
                let http = try await transport.send(outgoing)
                if (300...399).contains(http.status) {
                    outgoing.url = try redirectTarget(of: http, from: outgoing.url)
                    redirects += 1
                    guard redirects <= 5 else { throw SyncClientError.protocolViolation("the server redirected more than 5 times") }
                    continue
                }
                var payload = http.body
                // A gzip'd body without a Content-Encoding is inflated here, under the same bound.
                if payload.starts(with: [0x1F, 0x8B]) {
                    do { payload = try Gzip.decompress(payload, limit: configuration.maxResponseBytes) } catch let failure as Gzip.Failure {
                        throw failure.tooLarge
                            ? SyncClientError.responseTooLarge(limit: configuration.maxResponseBytes)
                            : SyncClientError.protocolViolation("the server's gzip answer cannot be read: \(failure)")
                    } catch {
                        throw SyncClientError.protocolViolation("the server's gzip answer cannot be read: \(error)")
                    }
                }
                switch http.status {
                case 200:
                    do { return try JSONDecoder().decode(Answer.self, from: Data(payload)) } catch {
                        throw SyncClientError.protocolViolation("the server's answer cannot be read: \(error)")
                    }
                case 409 where retryingConflicts, 500...599:
                    // 409: the same changes were being stored concurrently; worth another try.
                    reason = "server answered \(http.status)"
                case 429 where Self.retryAfter(http).map({ $0 <= configuration.retry.maxDelay }) ?? false:
                    // Rate limited for a moment: wait as long as the server asks, then try again.
                    serverDelay = Self.retryAfter(http)!
                    reason = "server is rate limiting (retry after \(serverDelay))"
                default:
                    let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(payload))
                    throw SyncClientError.refused(
                        status: http.status, code: error?.error.code ?? "http_\(http.status)",
                        message: error?.error.message ?? String(decoding: payload.prefix(200), as: UTF8.self),
                        rejected: error?.error.rejected ?? [])
                }
            } catch let error as SyncClientError {
                throw error
            } catch let tooLarge as GuardedTransport.TooLarge {
                throw .responseTooLarge(limit: tooLarge.limit)
            } catch let encoded as GuardedTransport.Encoded {
                throw .protocolViolation(
                    "the server answered with Content-Encoding '\(encoded.encoding)' though the client asked for identity; "
                        + "refusing it unread (an encoded answer can inflate without bound)")
            } catch is CancellationError {
                throw .cancelled
            } catch let failed as GuardedTransport.Failed {
                reason = failed.description
                cause = failed
            } catch {
                reason = "\(error)"
                cause = error
            }
            attempt += 1
            guard attempt < configuration.retry.maxAttempts else {
                throw .unreachable("\(configuration.server.absoluteString): \(reason) (after \(attempt) attempts)", underlying: cause)
            }
            let delay = max(serverDelay, configuration.retry.delay(afterAttempt: attempt - 1, jitter: Double.random(in: 0.5...1)))
            logger.notice("sync request failed; retrying", metadata: ["attempt": "\(attempt)", "reason": "\(reason)"])
            progress?(.retrying(attempt: attempt, delay: delay, reason: reason))
            do { try await sleep(delay) } catch { throw .cancelled }
        }
    }

    /// A 429's `Retry-After` in seconds (the HTTP-date form is not used by the server), if any.
    /// A wait longer than the retry policy's `maxDelay` is not waited for: the sync stops with
    /// the server's `rate_limited` refusal instead of hanging.
    static func retryAfter(_ response: GuardedTransport.Answer) -> Duration? {
        guard let value = response.header("Retry-After"), let seconds = Int(value), seconds >= 0 else { return nil }
        return .seconds(seconds)
    }

    /// Where a 3xx may be followed: a 307 or 308 (method and body kept) to the configured
    /// server's own origin. Anything else is refused before the token goes anywhere.
    func redirectTarget(of response: GuardedTransport.Answer, from url: URL) throws(SyncClientError) -> URL {
        let status = response.status
        guard let location = response.header("Location"),
            let target = URL(string: location, relativeTo: url)?.absoluteURL
        else { throw .protocolViolation("the server answered \(status) without a usable Location") }
        guard [307, 308].contains(status), let origin = ServerAddress.Origin(target),
            origin == ServerAddress.Origin(configuration.server)
        else { throw .redirectRefused(status: status, from: configuration.server.absoluteString, to: target.absoluteString) }
        return target
    }
}
