import DialogueModel

/// The failures of a sync, each named like its ``SyncClientError/Code`` and writing the
/// message a person reads.
extension SyncClientError {
    /// The server answered with a 4xx (not retried): its status, code and message, and the
    /// changes it refused.
    public static func refused(status: Int, code: String, message: String, rejected: [Rejection]) -> SyncClientError {
        SyncClientError(
            code: .refused,
            message: "the server refused the sync (\(status) \(code)): \(message)"
                + (rejected.isEmpty ? "" : "; " + rejected.prefix(3).map { "\($0.id): \($0.reason)" }.joined(separator: "; ")),
            status: status, serverCode: code, serverMessage: message, rejected: rejected)
    }

    /// The server could not be reached, or kept failing, after every retry; `underlying` is
    /// the last failure met, when there was one.
    public static func unreachable(_ reason: String, underlying: (any Error)? = nil) -> SyncClientError {
        SyncClientError(code: .unreachable, message: "cannot reach the server: \(reason)", underlying: underlying)
    }

    /// The server's answer broke the protocol.
    public static func protocolViolation(_ reason: String) -> SyncClientError {
        SyncClientError(code: .protocolViolation, message: "the server's answer broke the sync protocol: \(reason)")
    }

    /// The local replica failed (its message is this error's; the error is kept in ``underlying``).
    public static func local(_ error: ReplicaError) -> SyncClientError {
        SyncClientError(code: .local, message: error.message, underlying: error)
    }

    /// The task was cancelled.
    public static var cancelled: SyncClientError { SyncClientError(code: .cancelled, message: "the sync was cancelled") }

    /// The server's URL is not one a token may be sent to (malformed, bad port, credentials in it).
    public static func invalidServer(_ reason: String) -> SyncClientError {
        SyncClientError(code: .invalidServer, message: "invalid server URL: \(reason)")
    }

    /// The server's URL is plain `http://` to another machine and insecure HTTP was not allowed.
    public static func insecureServer(_ reason: String) -> SyncClientError {
        SyncClientError(code: .insecureServer, message: "refusing an insecure server: \(reason)")
    }

    /// The server redirected (`status`) to another origin (scheme, host or port), or with a
    /// status that would turn the sync into a GET; the token was not sent to `to`.
    public static func redirectRefused(status: Int, from: String, to: String) -> SyncClientError {
        SyncClientError(
            code: .redirectRefused,
            message: "the server at \(from) redirected (\(status)) to \(to); a sync follows only a 307 or 308 to the same "
                + "scheme, host and port, so the token was not sent there (if the server really moved, log in with its new URL)",
            status: status)
    }

    /// The server's answer inflates past the client's limit, in bytes.
    public static func responseTooLarge(limit: Int) -> SyncClientError {
        SyncClientError(
            code: .responseTooLarge, message: "the server's answer is larger than \(limit) bytes once inflated; refusing it")
    }

    /// The server presented a key (`presented`, a fingerprint) that is not the one this
    /// replica pinned (`pinned`) and that no endorsement links to it: someone may be
    /// impersonating the server. Nothing was changed; a deliberate replacement names the
    /// new fingerprint (``SyncClient/registerDevice(_:replacingServerKey:)``).
    public static func serverKeyChanged(server: String, presented: String, pinned: String) -> SyncClientError {
        SyncClientError(
            code: .serverKeyChanged,
            message: """
                THE SERVER'S KEY HAS CHANGED: \(server) presented key \(presented), but this replica pinned \(pinned) \
                and no endorsement links them. Someone may be impersonating the server; nothing was changed. \
                If an admin confirms the new key (`dialogue-server admin server-key` prints it), \
                log in again with --replace-server-key \(presented)
                """)
    }

    /// A replacement of the pinned key was asked for `given`, but the server presented `presented`.
    public static func replacementKeyMismatch(given: String, presented: String) -> SyncClientError {
        SyncClientError(
            code: .replacementKeyMismatch,
            message: "--replace-server-key \(given) does not match the key the server presented (\(presented)); nothing was changed")
    }

    /// The server's answer does not verify (a signature, a certificate for another device…).
    public static func unverifiedAnswer(_ reason: String) -> SyncClientError {
        SyncClientError(code: .unverifiedAnswer, message: "the server's answer does not verify, so it was not stored: \(reason)")
    }

    /// The server has this replica's id bound to another device key or member (409 `replica_taken`).
    public static func replicaTaken(_ replica: ReplicaID, message: String) -> SyncClientError {
        SyncClientError(
            code: .replicaTaken,
            message: "the server refused this device (409 replica_taken): this replica's id \(replica) is already bound to another "
                + "device key or member (\(message)); create a fresh replica with `dialogue-client init --replica NEW_PATH` "
                + "and log in with it",
            status: 409, serverCode: "replica_taken", replica: replica)
    }

    /// The server revoked this device (403 `revoked_device`).
    public static func revokedDevice(_ replica: ReplicaID, message: String) -> SyncClientError {
        SyncClientError(
            code: .revokedDevice,
            message: "the server refused this device (403 revoked_device): device \(replica) was revoked (\(message)); "
                + "ask an admin for a new token and log in from a fresh replica (`dialogue-client init --replica NEW_PATH`)",
            status: 403, serverCode: "revoked_device", replica: replica)
    }

    /// The replica has not logged in: no server key is pinned, so nothing it pushes would
    /// be accepted and nothing it receives could be verified. Nothing was sent.
    public static func notLoggedIn(_ replica: ReplicaID) -> SyncClientError {
        SyncClientError(
            code: .notLoggedIn,
            message: "this replica (\(replica)) has not logged in: sync needs its device registered and the server's key pinned; "
                + "run `dialogue-client login --server URL --token-file FILE` first (nothing was sent)",
            replica: replica)
    }

    /// The server refused an erasure approval (403 `erasure_not_permitted`): this member is
    /// not an admin who may use the space; `message` is the server's.
    public static func erasureNotPermitted(_ message: String) -> SyncClientError {
        SyncClientError(
            code: .erasureNotPermitted,
            message: "the server refused to approve the erasure (403 erasure_not_permitted): \(message); "
                + "only an admin of the space may erase what others wrote (an author may erase their own insight)",
            status: 403, serverCode: "erasure_not_permitted")
    }

    /// Whether this is a refusal of the server with this status and error code.
    func isRefusal(status: Int, serverCode: String) -> Bool {
        code == .refused && self.status == status && self.serverCode == serverCode
    }
}
