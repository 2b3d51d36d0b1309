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

    /// The stable code of a failure that has no more precise one, by exit status.
    static func codeName(_ status: Int32) -> String {
        switch status {
        case usage: "usage"
        case dataError: "data_error"
        case notFound: "not_found"
        case unavailable: "unavailable"
        case ioError: "io_error"
        case noPermission: "no_permission"
        default: "failure"
        }
    }

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

/// An error with an exit code, a stable code and a message a person can act on.
struct ClientError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    /// The stable code scripts compare (`--json` prints it): the library's code of the
    /// refusal (``ReplicaError/Code``, ``SyncClientError/Code``, a change's rejection code,
    /// the server's error code…), else the one of the exit status (``Exit/codeName(_:)``).
    var errorCode: String

    var description: String { message }

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
        self.errorCode = Exit.codeName(code)
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
        let code = error.code.rawValue
        return switch error.code {
        // The same code as a typed id that names nothing (`not_found`, 66): one code for one thing.
        case .entityNotFound: .notFound(error.message).with(code: EntityLookupError.Code.notFound.rawValue)
        case .unknownSpace: .notFound(error.message).with(code: code)
        // Space names come from the server's directory: each kept on one line.
        case .spaceNotFound:
            .notFound(ReplicaError.spaceNotFound(Terminal.line(error.input ?? ""), known: error.candidates.map(\.oneLine)).message)
                .with(code: code)
        case .ambiguousSpaceName:
            .usage(ReplicaError.ambiguousSpaceName(Terminal.line(error.input ?? ""), matches: error.candidates.map(\.oneLine)).message)
                .with(code: code)
        // The refused change's own code (`invalid_value`…), the one the server gives it too.
        case .changeRejected: .data(error.message).with(code: error.rejection?.rawValue ?? code)
        case .damagedReplica, .storage: .io(error.message).with(code: code)
        case .unverifiedChanges: .data(error.message).with(code: error.trustCode ?? "bad_signature")
        // Not logged in is one condition, whichever operation meets it: exit 66, `not_logged_in`.
        case .notLoggedIn: .notFound(error.message).with(code: code)
        case .erasureNotPermitted: ClientError(code: Exit.noPermission, message: error.message).with(code: error.trustCode ?? code)
        // wrong_kind, invalid_field, invalid_value, invalid_position, invalid_bundle,
        // author_not_certified, space_not_permitted, and any code a later library adds.
        default: .data(error.message).with(code: code)
        }
    }

    func with(code: String) -> ClientError {
        var error = self
        error.errorCode = code
        return error
    }

    static func sync(_ error: SyncClientError) -> ClientError {
        let code = error.code.rawValue
        switch error.code {
        case .local: return error.replicaError.map(replica) ?? .io(error.message).with(code: code)
        case .refused:
            // The first refused change's code says more than the request's (`invalid_changes`).
            return refused(error).with(code: error.rejected.first?.code ?? error.serverCode ?? code)
        case .invalidServer, .insecureServer, .replacementKeyMismatch: return .usage(error.message).with(code: code)
        case .notLoggedIn: return .notFound(error.message).with(code: code)
        case .erasureNotPermitted: return ClientError(code: Exit.noPermission, message: error.message).with(code: code)
        case .unreachable:
            return .unavailable(error.message + "; check the server is running and the URL given to `login`").with(code: code)
        // server_key_changed, unverified_answer, replica_taken, revoked_device,
        // protocol_violation, cancelled, redirect_refused, response_too_large, and later codes.
        default: return .unavailable(error.message).with(code: code)
        }
    }

    /// A refusal's exit status and advice, by HTTP status.
    private static func refused(_ error: SyncClientError) -> ClientError {
        switch (error.status, error.serverCode) {
        case (401, _):
            .unavailable(
                "\(error.message); the token is unknown or revoked: ask an admin for a new one and run `dialogue-client login`")
        case (403, "erasure_not_permitted"):
            ClientError(code: Exit.noPermission, message: error.message + "; only an admin of the space may erase what others wrote")
        case (403, _): .unavailable("\(error.message); your school may not use this space (ask an admin to turn sharing on)")
        case (422, _), (409, _): .data(error.message)
        default: .unavailable(error.message)
        }
    }
}

/// Runs a command body: errors go to stderr (``reportFailure(_:json:)``) and become the
/// documented exit code.
func runReporting(json: Bool = false, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let failure = ClientError(error)
        reportFailure(failure, json: json)
        throw ExitCode(failure.code)
    }
}

/// Writes a failure to stderr: with `json`, one JSON document (``JSONError``); else
/// `error: <message>`, escaped like all human output.
func reportFailure(_ failure: ClientError, json: Bool) {
    if json, let document = try? Output.json(JSONError(failure)) {
        FileHandle.standardError.write(Data((document + "\n").utf8))
    } else {
        // The message may quote a server's answer or a partner's text: escaped like all human output.
        FileHandle.standardError.write(Data("error: \(Terminal.escape(failure.message, multiline: true))\n".utf8))
    }
}

/// An error as `--json` reports it on stderr: `{"code", "exit", "message"}` (the message
/// exact, as all JSON output; docs/CLI.md, "Errors and exit codes").
struct JSONError: Encodable {
    /// The stable code (``ClientError/errorCode``).
    var code: String
    /// The exit status.
    var exit: Int32
    /// The same message as the text form (without `error: `).
    var message: String

    init(_ failure: ClientError) {
        code = failure.errorCode
        exit = failure.code
        message = failure.message
    }
}
