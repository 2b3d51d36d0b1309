import Foundation
import Logging
import Metrics

/// Who may try again, and when: rate limits on failed authentication and on pushes, per
/// address and per token, and the audit line of every failed authentication.
final class Door: Sendable {
    private let failuresByAddress: RateLimiter
    private let failuresByToken: RateLimiter
    private let pushesByToken: RateLimiter
    private let pushesByAddress: RateLimiter
    private let logger: Logger

    init(limits: ServerLimits, logger: Logger) {
        failuresByAddress = RateLimiter(limits.authFailuresPerAddress)
        failuresByToken = RateLimiter(limits.authFailuresPerToken)
        pushesByToken = RateLimiter(limits.pushesPerToken)
        pushesByAddress = RateLimiter(limits.pushesPerAddress)
        self.logger = logger
    }

    /// A request over a limit: answered 429 `rate_limited` with `Retry-After`.
    struct Limited: Error {
        var retryAfter: Duration
        var message: String
    }

    /// Refuses, before the token is looked up, an address or token that failed too often.
    func checkAuthentication(address: String, token: String?) throws(Limited) {
        if let wait = failuresByAddress.wait(for: address) {
            throw Limited(retryAfter: wait, message: "too many failed authentications from this address; retry later")
        }
        if let token, let wait = failuresByToken.wait(for: Self.key(token)) {
            throw Limited(retryAfter: wait, message: "too many failed authentications with this token; retry later")
        }
    }

    /// Records a failed authentication and logs it (the address, the token's first
    /// characters, never the token).
    func authenticationFailed(address: String, token: String?, reason: String, requestID: String) {
        failuresByAddress.take(address)
        if let token { failuresByToken.take(Self.key(token)) }
        Counter(label: "dialogue_auth_failures_total").increment()
        logger.warning(
            "authentication failed",
            metadata: [
                "audit": "auth_failure", "address": "\(address)", "token.prefix": "\(token.map(Self.prefix) ?? "none")",
                "reason": "\(reason)", "request.id": "\(requestID)",
            ])
    }

    /// Counts a push by `token` from `address`; throws when either is over its limit.
    func push(address: String, token: String) throws(Limited) {
        if let wait = pushesByToken.take(Self.key(token)) {
            throw Limited(retryAfter: wait, message: "too many pushes with this token; retry later")
        }
        if let wait = pushesByAddress.take(address) {
            throw Limited(retryAfter: wait, message: "too many pushes from this address; retry later")
        }
    }

    /// A token as a rate-limit key: its hash (the token itself is never kept).
    static func key(_ token: String) -> String {
        Tokens.hash(token).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// What the audit log shows of a token: at most 8 characters and at most half of it,
    /// anything but [A-Za-z0-9_-] shown as `?` (no control characters in logs).
    static func prefix(_ token: String) -> String {
        var shown = ""
        for scalar in token.unicodeScalars.prefix(min(8, token.unicodeScalars.count / 2)) {
            let plain = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-")
            shown.unicodeScalars.append(plain ? scalar : "?")
        }
        return shown
    }
}
