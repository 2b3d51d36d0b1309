import DialogueModel

/// Why a sync (or a login, an erasure approval) stopped.
///
/// An extensible error, like ``ReplicaError``: compare its ``code`` (stable; new codes can
/// be added without breaking anyone's `switch`), show its ``message``, read its context
/// (``status`` and ``serverCode`` of a refusal, ``replica``…). A failure of the local
/// replica keeps the ``ReplicaError`` in ``underlying`` (see ``replicaError``).
///
/// ```swift
/// do {
///     try await client.sync(replica)
/// } catch let error where error.code == .unreachable {
///     showOffline()   // nothing is lost: sync again later
/// } catch let error where error.code == .notLoggedIn {
///     showLogin()
/// }
/// ```
public struct SyncClientError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure: a stable string (`unreachable`, `refused`…). Where the server
    /// refused with a code of its own, ``SyncClientError/serverCode`` holds it.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The stable string, `snake_case`.
        public let rawValue: String

        /// Creates a code from its stable string.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The stable string.
        public var description: String { rawValue }

        /// The server answered with a 4xx (not retried): see ``SyncClientError/status``,
        /// ``SyncClientError/serverCode`` and ``SyncClientError/rejected``.
        public static let refused = Code(rawValue: "refused")
        /// The server could not be reached, or kept failing, after every retry.
        public static let unreachable = Code(rawValue: "unreachable")
        /// The server's answer broke the protocol.
        public static let protocolViolation = Code(rawValue: "protocol_violation")
        /// The local replica failed: ``SyncClientError/replicaError`` says how.
        public static let local = Code(rawValue: "local")
        /// The task was cancelled.
        public static let cancelled = Code(rawValue: "cancelled")
        /// The server's URL is not one a token may be sent to.
        public static let invalidServer = Code(rawValue: "invalid_server")
        /// The server's URL is plain `http://` to another machine and insecure HTTP was not allowed.
        public static let insecureServer = Code(rawValue: "insecure_server")
        /// The server redirected to another origin, or with a status that would turn the sync into a GET.
        public static let redirectRefused = Code(rawValue: "redirect_refused")
        /// The server's answer inflates past the client's limit.
        public static let responseTooLarge = Code(rawValue: "response_too_large")
        /// The server presented a key that is not the pinned one and that no endorsement links to it.
        public static let serverKeyChanged = Code(rawValue: "server_key_changed")
        /// A replacement of the pinned key was asked for another key than the server presented.
        public static let replacementKeyMismatch = Code(rawValue: "replacement_key_mismatch")
        /// The server's answer does not verify.
        public static let unverifiedAnswer = Code(rawValue: "unverified_answer")
        /// The server has this replica's id bound to another device key or member (409 `replica_taken`).
        public static let replicaTaken = Code(rawValue: "replica_taken")
        /// The server revoked this device (403 `revoked_device`).
        public static let revokedDevice = Code(rawValue: "revoked_device")
        /// The replica has not logged in; nothing was sent.
        public static let notLoggedIn = Code(rawValue: "not_logged_in")
        /// The server refused an erasure approval (403 `erasure_not_permitted`).
        public static let erasureNotPermitted = Code(rawValue: "erasure_not_permitted")
    }

    /// What kind of failure (compare it; it is stable).
    public let code: Code
    /// What went wrong and what to do, for a person.
    public let message: String
    /// The HTTP status of a refusal or refused redirect.
    public let status: Int?
    /// The server's own error code of a refusal (`unauthorized`, `forbidden`,
    /// `invalid_changes`…), as its answer gave it.
    public let serverCode: String?
    /// The server's own message of a refusal, as its answer gave it.
    public let serverMessage: String?
    /// The changes the server refused, with their codes (``Rejection``); empty otherwise.
    public let rejected: [Rejection]
    /// The replica the failure is about (not logged in, taken, revoked).
    public let replica: ReplicaID?
    /// The error that caused this one: the ``ReplicaError`` of a ``Code/local`` failure.
    public let underlying: (any Error)?

    /// Creates an error; prefer the static functions named after each failure
    /// (``unreachable(_:underlying:)``…), which write the message.
    public init(
        code: Code, message: String, status: Int? = nil, serverCode: String? = nil, serverMessage: String? = nil,
        rejected: [Rejection] = [],
        replica: ReplicaID? = nil, underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.serverCode = serverCode
        self.serverMessage = serverMessage
        self.rejected = rejected
        self.replica = replica
        self.underlying = underlying
    }

    /// The message.
    public var description: String { message }

    /// The local replica's error behind a ``Code/local`` failure.
    public var replicaError: ReplicaError? { underlying as? ReplicaError }
}

extension SyncClientError: Equatable {
    /// Two errors are equal when their code, message and context are; the underlying
    /// errors are compared only through the message.
    public static func == (lhs: SyncClientError, rhs: SyncClientError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.status == rhs.status && lhs.serverCode == rhs.serverCode
            && lhs.serverMessage == rhs.serverMessage && lhs.rejected == rhs.rejected && lhs.replica == rhs.replica
    }
}
