import DialogueGzip
import DialogueModel
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import Synchronization

/// The request context of every route.
public struct DialogueRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address ("unknown" when there is none, as in in-process tests): the
    /// key of the per-address rate limits.
    public let address: String
    /// This request's id (`X-Request-Id`), set by ``HTTPSurfaceMiddleware``.
    public var requestID = ""
    /// The connection, closed when a body arrives too slowly.
    let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
        address = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Bodies are limited by the server's own check (after gzip), so Hummingbird's must not be lower.
    public var maxUploadSize: Int { 64 << 20 }
}

/// Builds the HTTP application: routes, error bodies, metrics.
public struct SyncServer: Sendable {
    public let service: SyncService
    public let metrics: PrometheusCollectorRegistry?
    let logger: Logger
    /// When set, `/metrics` answers only `Authorization: Bearer <metricsToken>`.
    let metricsToken: String?
    let door: Door
    /// Signs device certificates and directories with the server's key (from the store).
    let authority: ServerAuthority

    public init(service: SyncService, metrics: PrometheusCollectorRegistry?, logger: Logger, metricsToken: String? = nil) {
        self.service = service
        self.metrics = metrics
        self.logger = logger
        self.metricsToken = metricsToken.flatMap { $0.isEmpty ? nil : $0 }
        door = Door(limits: service.limits, logger: logger)
        authority = ServerAuthority(store: service.store, wallClock: service.wallClock)
    }

    typealias Handler = @Sendable (Request, DialogueRequestContext) async throws -> Response

    /// Every route of the API (the OpenAPI document lists them all): method, path, handler.
    func routes() -> [(method: HTTPRequest.Method, path: String, handler: Handler)] {
        [
            (.get, "/health", { _, _ in Self.json(["status": "ok"]) }),
            (
                .get, "/ready",
                { _, _ in
                    do {
                        try await service.store.ping()
                        return Self.json(["status": "ready"])
                    } catch {
                        return Self.error(503, .unavailable, "the store is not reachable: \(error)")
                    }
                }
            ),
            (.get, "/metrics", { request, _ in scrape(request) }),
            (
                .get, "/openapi.yaml",
                { _, _ in
                    guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let data = try? Data(contentsOf: url)
                    else {
                        return Self.error(500, .internalError, "the OpenAPI document is missing from this build")
                    }
                    return Response(
                        status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
                }
            ),
            (.post, "/v1/sync", { request, context in try await sync(request, context) }),
            (.post, "/v1/devices", { request, context in try await registerDevice(request, context) }),
            (.post, "/v1/erasures/approval", { request, context in try await approveErasure(request, context) }),
        ]
    }

    /// The router with every route of ``routes()``.
    public func router() -> Router<DialogueRequestContext> {
        let routes = routes()
        let router = Router(context: DialogueRequestContext.self)
        router.add(middleware: HTTPSurfaceMiddleware())
        router.add(
            middleware: JSONErrorMiddleware(allowed: Dictionary(grouping: routes, by: { $0.path }).mapValues { $0.map { $0.method } }))
        router.add(middleware: MetricsMiddleware())
        for route in routes {
            router.on(RouterPath(route.path), method: route.method, use: route.handler)
        }
        return router
    }

    /// GET /metrics, behind the scrape token when one is configured.
    private func scrape(_ request: Request) -> Response {
        if let metricsToken {
            guard let presented = Self.bearerToken(request), Tokens.hash(presented) == Tokens.hash(metricsToken) else {
                return Self.error(401, .unauthorized, "send the metrics scrape token as 'Authorization: Bearer <token>'")
            }
        }
        var buffer: [UInt8] = []
        metrics?.emit(into: &buffer)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }

    private func sync(_ request: Request, _ context: DialogueRequestContext) async throws -> Response {
        let access: SyncService.Access
        do { access = try await authenticate(request, context) } catch let failure as SyncService.Failure { return Self.error(failure) }
        let body: [UInt8]
        do { body = try await readBody(request, context, limit: service.limits.maxBodyBytes) } catch { return Self.error(error) }
        // The version first, so an older client is told to upgrade rather than that its body is malformed.
        struct Version: Decodable { var `protocol`: Int? }
        if let version = (try? JSONDecoder().decode(Version.self, from: Data(body)))?.protocol, version != SyncProtocol.version {
            return Self.error(SyncService.unsupported(version))
        }
        let syncRequest: SyncRequest
        do { syncRequest = try JSONDecoder().decode(SyncRequest.self, from: Data(body)) } catch {
            if Self.isOutOfRange(error) {
                return Self.error(400, .malformedChange, "a change holds a value no replica could store: \(Self.describe(error))")
            }
            return Self.error(400, .malformedRequest, "the body is not a valid sync request: \(Self.describe(error))")
        }
        if syncRequest.spaces.contains(where: { !$0.changes.isEmpty || $0.changesBinary != nil }), let token = Self.bearerToken(request) {
            do { try door.push(address: context.address, token: token) } catch {
                context.logger.notice("push rate-limited", metadata: ["member": "\(access.member.id)", "address": "\(context.address)"])
                return Self.error(Self.limited(error))
            }
        }
        do {
            let (response, counts) = try await service.syncCounting(syncRequest, access: access)
            Counter(label: "dialogue_changes_stored_total").increment(by: counts.stored)
            Recorder(label: "dialogue_sync_changes_pushed").record(counts.pushed)
            Recorder(label: "dialogue_sync_changes_returned").record(counts.returned)
            context.logger.info(
                "sync",
                metadata: [
                    "member": "\(access.member.id)", "spaces": "\(syncRequest.spaces.count)", "stored": "\(counts.stored)",
                    "returned": "\(counts.returned)",
                ])
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            var bytes = [UInt8](try encoder.encode(response))
            var headers: HTTPFields = [.contentType: "application/json"]
            if bytes.count > 1024, request.headers[.acceptEncoding]?.contains("gzip") == true {
                bytes = Gzip.compress(bytes)
                headers[.contentEncoding] = "gzip"
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        } catch let failure as SyncService.Failure {
            context.logger.notice("sync refused", metadata: ["code": "\(failure.body.error.code)", "member": "\(access.member.id)"])
            return Self.error(failure)
        }
    }

    /// The request body, inflated if gzipped, at most `limit` bytes. A body still arriving
    /// after the body timeout (a slow or stalled sender) ends the connection.
    func readBody(_ request: Request, _ context: DialogueRequestContext, limit: Int) async throws(SyncService.Failure) -> [UInt8] {
        var body: [UInt8]
        let channel = context.channel
        let expired = Expiry()
        let timeout = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(service.limits.bodyTimeout / .nanoseconds(1)))) {
            expired.fired.withLock { $0 = true }
            Counter(label: "dialogue_connections_timed_out_total", dimensions: [("phase", "body")]).increment()
            channel.close(promise: nil)
        }
        do {
            let collected = try await request.body.collect(upTo: limit)
            timeout.cancel()
            body = Array(buffer: collected)
        } catch {
            timeout.cancel()
            if expired.fired.withLock({ $0 }) {
                throw SyncService.Failure(408, .malformedRequest, "the request body did not arrive in time")
            }
            throw SyncService.Failure(413, .payloadTooLarge, "the request body is larger than \(limit) bytes")
        }
        if let encoding = request.headers[.contentEncoding]?.lowercased(), encoding != "identity" {
            guard encoding == "gzip" else {
                throw SyncService.Failure(415, .malformedRequest, "unsupported Content-Encoding '\(encoding)'; use gzip or none")
            }
            do { body = try Gzip.decompress(body, limit: limit) } catch let failure as Gzip.Failure where failure.tooLarge {
                throw SyncService.Failure(413, .payloadTooLarge, "the request body inflates past \(limit) bytes")
            } catch {
                throw SyncService.Failure(400, .malformedRequest, "the gzip body cannot be read: \(error)")
            }
        }
        return body
    }

    /// The member and spaces behind the request's bearer token. An address or token that
    /// failed too often is refused before the lookup; every failure is counted and logged.
    func authenticate(_ request: Request, _ context: DialogueRequestContext) async throws -> SyncService.Access {
        let access = try await authenticated(request, context) { try await service.store.access(forTokenHash: $0) }
        return SyncService.Access(member: access.member, spaces: access.spaces, personalSpace: access.personal)
    }

    /// What `lookup` finds for the hash of the request's bearer token, through the door:
    /// an address or token that failed too often is refused before the lookup; every
    /// failure (no token, or `lookup` finds nothing) is counted and logged.
    func authenticated<Found: Sendable>(
        _ request: Request, _ context: DialogueRequestContext, lookup: @Sendable ([UInt8]) async throws -> Found?
    ) async throws -> Found {
        let token = Self.bearerToken(request)
        do { try door.checkAuthentication(address: context.address, token: token) } catch { throw Self.limited(error) }
        guard let token else {
            door.authenticationFailed(address: context.address, token: nil, reason: "no bearer token", requestID: context.requestID)
            throw SyncService.Failure(401, .unauthorized, "send a device token as 'Authorization: Bearer <token>'")
        }
        guard let found = try await lookup(Tokens.hash(token)) else {
            door.authenticationFailed(
                address: context.address, token: token, reason: "unknown or revoked token", requestID: context.requestID)
            throw SyncService.Failure(401, .unauthorized, "the token is not valid (unknown or revoked); ask an administrator for a new one")
        }
        return found
    }

    /// The token of an `Authorization: Bearer …` header.
    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
    }

    /// A 429 with the error body and `Retry-After` (whole seconds, at least 1).
    static func limited(_ limited: Door.Limited) -> SyncService.Failure {
        let seconds = max(1, Int((Double(limited.retryAfter / .milliseconds(1)) / 1000).rounded(.up)))
        var failure = SyncService.Failure(429, .rateLimited, limited.message)
        failure.retryAfterSeconds = seconds
        return failure
    }

    static func json(_ object: [String: String], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ failure: SyncService.Failure) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(failure.body)) ?? Data()
        var headers: HTTPFields = [.contentType: "application/json"]
        if let seconds = failure.retryAfterSeconds { headers[.retryAfter] = "\(seconds)" }
        return Response(
            status: HTTPResponse.Status(code: failure.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: Int, _ code: SyncErrorCode, _ message: String) -> Response {
        error(SyncService.Failure(status, code, message))
    }

    /// A decoding error as a sentence with the path to the bad value.
    /// Whether decoding failed on a value the model's own types refuse (a deletion range
    /// past the largest counter), rather than on the shape of the JSON.
    static func isOutOfRange(_ error: any Error) -> Bool {
        guard case .dataCorrupted(let context) = error as? DecodingError else { return false }
        return context.underlyingError is DotRangeError
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "" : " at \(path)"
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing '\(key.stringValue)'\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription)\(path(context))"
        @unknown default: return "\(error)"
        }
    }
}

/// Set when a request's body timeout fired.
final class Expiry: Sendable {
    let fired = Mutex(false)
}

/// Turns every error a route or the router throws (unknown route, wrong method…) into a
/// JSON body with a stable code; a known path asked with another method is 405 with `Allow`.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = DialogueRequestContext
    /// The methods of each path served.
    let allowed: [String: [HTTPRequest.Method]]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            if error.status == .notFound, let methods = allowed[request.uri.path] {
                var response = SyncServer.error(
                    405, .methodNotAllowed,
                    "\(request.uri.path) answers \(methods.map(\.rawValue).joined(separator: ", ")), not \(request.method)")
                response.headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
                return response
            }
            let code: SyncErrorCode =
                switch error.status.code {
                case 404: .notFound
                case 405: .methodNotAllowed
                case 413: .payloadTooLarge
                case 400..<500: .malformedRequest
                default: .internalError
                }
            return SyncServer.error(
                error.status.code, code, error.body ?? "\(error.status.reasonPhrase) (\(request.method) \(request.uri.path))")
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return SyncServer.error(500, .internalError, "the server failed; it has been logged")
        }
    }
}
