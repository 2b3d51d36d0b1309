import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// What every response carries, whatever answered it: `Cache-Control: no-store` (responses
/// hold notes about people, which no cache may keep), `X-Content-Type-Options: nosniff`,
/// and `X-Request-Id`, the caller's when it is sane, else a fresh one; the id is in the
/// metadata of every log line of the request.
struct HTTPSurfaceMiddleware: RouterMiddleware {
    typealias Context = DialogueRequestContext

    static let requestIDField = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[Self.requestIDField].flatMap(Self.sane) ?? UUID().uuidString.lowercased()
        context.requestID = id
        context.logger[metadataKey: "request.id"] = "\(id)"
        var response = try await next(request, context)
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.requestIDField] = id
        return response
    }

    /// An incoming id is kept if it is 1–128 characters of letters, digits, `-`, `_`, `.`,
    /// `:` (nothing that could break a log line or a header).
    static func sane(_ id: String) -> String? {
        guard (1...128).contains(id.utf8.count),
            id.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || [0x2D, 0x5F, 0x2E, 0x3A].contains(byte)
            })
        else { return nil }
        return id
    }
}
