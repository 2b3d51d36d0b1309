import ArgumentParser
import DialogueSync
import Foundation

/// The exit codes `dialogue-client` documents (sysexits.h values).
enum Exit {
    static let ok: Int32 = 0
    /// Bad command line, or a command that needs something first (e.g. `--space` when several
    /// are held); a server URL refused (plain http:// to another machine without
    /// `--allow-insecure-http`, a port outside 1-65535).
    static let usage: Int32 = 64
    /// Refused data: invalid value, malformed import file, bad bundle, changes the server refused.
    static let dataError: Int32 = 65
    /// No such replica, session, insight, action, space or file.
    static let notFound: Int32 = 66
    /// The server cannot be reached, refused the token or this device (`replica_taken`,
    /// `revoked_device`), presented a key other than the pinned one, or broke the protocol
    /// (a redirect to another origin, an answer past the size limit, one that does not verify).
    static let unavailable: Int32 = 69
    /// The local replica or a local file could not be read or written.
    static let ioError: Int32 = 74
    /// `sync`: the server no longer lets this member use one or more spaces (the others
    /// synced; a space no longer in the directory was left, its content erased here);
    /// `forget`: this member may not erase that (`erasure_not_permitted`).
    static let noPermission: Int32 = 77

    static let table = """
        Exit codes:
          0   success
          64  usage: bad arguments or options
          65  data error: invalid value, malformed file, refused bundle or changes
          66  not found: no replica, login, space, session, insight, action or file
          69  unavailable: server unreachable, refused the token or this device, presented
              a key other than the pinned one, or broke the protocol
          74  I/O: the local replica or a local file could not be read or written
          77  no permission: sync synced the other spaces, but the server no longer
              lets you use one or more (those no longer yours were left); forget:
              you may not erase that
        """
}

/// An error with an exit code and a message a person can act on.
struct ClientError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    /// The stable code of a refusal, when there is one (a change this replica or the server
    /// refused: `invalid_value`, `impossible_history`…; the server's error code; a damaged
    /// replica), for scripts: `--json` prints it.
    var errorCode: String?

    var description: String { message }

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    static func usage(_ message: String) -> ClientError { ClientError(code: Exit.usage, message: message) }
    static func data(_ message: String) -> ClientError { ClientError(code: Exit.dataError, message: message) }
    static func notFound(_ message: String) -> ClientError { ClientError(code: Exit.notFound, message: message) }
    static func unavailable(_ message: String) -> ClientError { ClientError(code: Exit.unavailable, message: message) }
    static func io(_ message: String) -> ClientError { ClientError(code: Exit.ioError, message: message) }

    /// Maps any error a command meets to a code and a message.
    init(_ error: any Error) {
        switch error {
        case let error as ClientError: self = error
        case let error as ReplicaError: self = Self.replica(error)
        case let error as SyncClientError: self = Self.sync(error)
        case let error as ValidationError: self = .usage(error.message)
        case let error as CocoaError where error.code == .fileNoSuchFile || error.code == .fileReadNoSuchFile:
            self = .notFound("\(error.localizedDescription)")
        default: self = .io("\(error)")
        }
    }

    static func replica(_ error: ReplicaError) -> ClientError {
        switch error {
        case .entityNotFound, .unknownSpace: .notFound(error.description)
        // Space names come from the server's directory: each kept on one line.
        case .spaceNotFound(let text, let known):
            .notFound(ReplicaError.spaceNotFound(Terminal.line(text), known: known.map(\.oneLine)).description)
        case .ambiguousSpaceName(let text, let matches):
            .usage(ReplicaError.ambiguousSpaceName(Terminal.line(text), matches: matches.map(\.oneLine)).description)
        case .changeRejected(_, let code, _): .data(error.description).with(code: code.rawValue)
        case .wrongKind, .invalidField, .invalidValue, .invalidPosition, .invalidBundle: .data(error.description)
        case .damagedRow: .io(error.description).with(code: "damaged_replica")
        case .storage: .io(error.description)
        case .authorNotCertified: .data(error.description)
        case .unverifiedChanges: .data(error.description).with(code: error.trustCode ?? "bad_signature")
        // Not logged in is one condition, whichever operation meets it: exit 66, `not_logged_in`.
        case .noPinnedServerKey, .loginRequired: .notFound(error.description).with(code: "not_logged_in")
        case .spaceNotPermitted: .data(error.description).with(code: "space_not_permitted")
        case .erasureRefused:
            ClientError(code: Exit.noPermission, message: error.description).with(code: error.trustCode ?? "erasure_not_permitted")
        }
    }

    func with(code: String) -> ClientError {
        var error = self
        error.errorCode = code
        return error
    }

    static func sync(_ error: SyncClientError) -> ClientError {
        if case .refused(_, let code, _, let rejected) = error {
            // The first refused change's code says more than the request's (`invalid_changes`).
            return refused(error).with(code: rejected.first?.code ?? code)
        }
        return refused(error)
    }

    private static func refused(_ error: SyncClientError) -> ClientError {
        switch error {
        case .refused(let status, _, _, _) where status == 401:
            .unavailable(
                "\(error.description); the token is unknown or revoked: ask an admin for a new one and run `dialogue-client login`")
        case .refused(403, "erasure_not_permitted", _, _):
            ClientError(code: Exit.noPermission, message: error.description + "; only an admin of the space may erase what others wrote")
        case .refused(let status, _, _, _) where status == 403:
            .unavailable("\(error.description); your school may not use this space (ask an admin to turn sharing on)")
        case .refused(let status, _, _, _) where status == 422 || status == 409:
            .data(error.description)
        case .invalidServer, .insecureServer, .replacementKeyMismatch: .usage(error.description)
        case .serverKeyChanged, .unverifiedAnswer, .replicaTaken, .revokedDevice: .unavailable(error.description)
        case .notLoggedIn: ClientError.notFound(error.description).with(code: "not_logged_in")
        case .refused, .unreachable, .protocolViolation, .cancelled, .redirectRefused, .responseTooLarge:
            .unavailable(error.description + (error.isUnreachable ? "; check the server is running and the URL given to `login`" : ""))
        case .local(let local): replica(local)
        case .erasureNotPermitted: ClientError(code: Exit.noPermission, message: error.description).with(code: "erasure_not_permitted")
        }
    }
}

extension SyncClientError {
    var isUnreachable: Bool {
        if case .unreachable = self { return true }
        return false
    }
}

/// Runs a command body: errors go to stderr as `error: …` (with `json`, as one JSON
/// document: `{"error": {"message", "exitCode", "code"?}}`) and become the documented exit code.
func runReporting(json: Bool = false, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let failure = ClientError(error)
        if json,
            let document = try? Output.json(
                JSONError(error: .init(message: failure.message, exitCode: failure.code, code: failure.errorCode)))
        {
            FileHandle.standardError.write(Data((document + "\n").utf8))
        } else {
            // The message may quote a server's answer or a partner's text: escaped like all human output.
            FileHandle.standardError.write(Data("error: \(Terminal.escape(failure.message, multiline: true))\n".utf8))
        }
        throw ExitCode(failure.code)
    }
}

/// An error as `--json` reports it on stderr (the message exact, as all JSON output).
struct JSONError: Encodable {
    struct Body: Encodable {
        var message: String
        var exitCode: Int32
        /// The stable code of a refusal (``ClientError/errorCode``), absent when there is none.
        var code: String?
    }

    var error: Body
}
