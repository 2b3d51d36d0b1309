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

/// The request context of every route.
public struct DialogueRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// Bodies are limited by the server's own check (after gzip), so Hummingbird's must not be lower.
    public var maxUploadSize: Int { 64 << 20 }
}

/// Builds the HTTP application: routes, error bodies, metrics.
public struct SyncServer: Sendable {
    public let service: SyncService
    public let metrics: PrometheusCollectorRegistry?
    let logger: Logger

    public init(service: SyncService, metrics: PrometheusCollectorRegistry?, logger: Logger) {
        self.service = service
        self.metrics = metrics
        self.logger = logger
    }

    /// The router with every route of the API (the OpenAPI document lists them all).
    public func router() -> Router<DialogueRequestContext> {
        let router = Router(context: DialogueRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.get("/health") { _, _ in
            Self.json(["status": "ok"])
        }
        router.get("/ready") { _, _ in
            do {
                try await service.store.ping()
                return Self.json(["status": "ready"])
            } catch {
                return Self.error(503, .unavailable, "the store is not reachable: \(error)")
            }
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            metrics?.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/openapi.yaml") { _, _ in
            guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let data = try? Data(contentsOf: url) else {
                return Self.error(500, .internalError, "the OpenAPI document is missing from this build")
            }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.post("/v1/sync") { request, context in
            try await sync(request, context)
        }
        return router
    }

    private func sync(_ request: Request, _ context: DialogueRequestContext) async throws -> Response {
        let access: SyncService.Access
        do { access = try await authenticate(request) } catch let failure as SyncService.Failure { return Self.error(failure) }
        var body: [UInt8]
        do {
            let collected = try await request.body.collect(upTo: service.limits.maxBodyBytes)
            body = Array(buffer: collected)
        } catch {
            return Self.error(413, .payloadTooLarge, "the request body is larger than \(service.limits.maxBodyBytes) bytes")
        }
        if let encoding = request.headers[.contentEncoding]?.lowercased(), encoding != "identity" {
            guard encoding == "gzip" else {
                return Self.error(415, .malformedRequest, "unsupported Content-Encoding '\(encoding)'; use gzip or none")
            }
            do { body = try Gzip.decompress(body, limit: service.limits.maxBodyBytes) } catch let failure as Gzip.Failure
                where failure.tooLarge
            {
                return Self.error(413, .payloadTooLarge, "the request body inflates past \(service.limits.maxBodyBytes) bytes")
            } catch {
                return Self.error(400, .malformedRequest, "the gzip body cannot be read: \(error)")
            }
        }
        let syncRequest: SyncRequest
        do { syncRequest = try JSONDecoder().decode(SyncRequest.self, from: Data(body)) } catch {
            if Self.isOutOfRange(error) {
                return Self.error(400, .malformedChange, "a change holds a value no replica could store: \(Self.describe(error))")
            }
            return Self.error(400, .malformedRequest, "the body is not a valid sync request: \(Self.describe(error))")
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

    /// The member and spaces behind the request's bearer token.
    func authenticate(_ request: Request) async throws -> SyncService.Access {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw SyncService.Failure(401, .unauthorized, "send a device token as 'Authorization: Bearer <token>'")
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let access = try await service.store.access(forTokenHash: Tokens.hash(token)) else {
            throw SyncService.Failure(401, .unauthorized, "the token is not valid (unknown or revoked); ask an administrator for a new one")
        }
        return SyncService.Access(member: access.member, spaces: access.spaces)
    }

    static func json(_ object: [String: String], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ failure: SyncService.Failure) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(failure.body)) ?? Data()
        return Response(
            status: HTTPResponse.Status(code: failure.status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
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

/// Turns every error a route or the router throws (unknown route, wrong method…) into a
/// JSON body with a stable code.
struct JSONErrorMiddleware: RouterMiddleware {
    typealias Context = DialogueRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let code: SyncErrorCode =
                switch error.status.code {
                case 404: .notFound
                case 405: .notFound
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
