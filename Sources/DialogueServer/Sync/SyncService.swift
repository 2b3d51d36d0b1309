import DialogueModel
import DialogueSync
import Foundation
import Logging

/// The server's half of the sync protocol, independent of HTTP: checks access, validates
/// every pushed change before anything is stored, stores them, and answers with what
/// the replica lacks.
public struct SyncService: Sendable {
    public let store: any SyncStore
    public let limits: ServerLimits
    let wallClock: any WallClock
    let logger: Logger

    public init(store: any SyncStore, limits: ServerLimits = ServerLimits(), wallClock: any WallClock = SystemWallClock(), logger: Logger) {
        self.store = store
        self.limits = limits
        self.wallClock = wallClock
        self.logger = logger
    }

    /// A refusal with its HTTP status and JSON body.
    public struct Failure: Error, Sendable {
        public var status: Int
        public var body: ErrorBody

        init(_ status: Int, _ code: SyncErrorCode, _ message: String, rejected: [Rejection]? = nil) {
            self.status = status
            body = ErrorBody(code: code, message: message, rejected: rejected)
        }
    }

    /// What the authenticated caller may touch.
    public struct Access: Sendable {
        public var member: MemberAccount
        public var spaces: Set<SpaceID>

        public init(member: MemberAccount, spaces: Set<SpaceID>) {
            self.member = member
            self.spaces = spaces
        }
    }

    /// Handles one sync request.
    public func sync(_ request: SyncRequest, access: Access) async throws -> SyncResponse {
        guard request.protocol == SyncProtocol.version else {
            throw Failure(
                422, .unsupportedProtocol,
                "this server speaks sync protocol \(SyncProtocol.version), the request used \(request.protocol); update the client")
        }
        guard Set(request.spaces.map(\.space)).count == request.spaces.count else {
            throw Failure(400, .malformedRequest, "a space appears twice in the request")
        }
        var pushedBySpace: [SpaceID: [Change]] = [:]
        for section in request.spaces {
            do { pushedBySpace[section.space] = try section.allChanges() } catch {
                throw Failure(400, .malformedRequest, "changesBinary of space \(section.space) cannot be read: \(error)")
            }
        }
        let pushed = pushedBySpace.values.reduce(0) { $0 + $1.count }
        guard pushed <= limits.maxChangesPerRequest else {
            throw Failure(413, .payloadTooLarge, "\(pushed) changes in one request; send at most \(limits.maxChangesPerRequest) at a time")
        }
        // Forbidden is the same answer for a space that exists elsewhere and one that does not.
        for section in request.spaces {
            guard access.spaces.contains(section.space) else {
                throw Failure(403, .forbidden, "this token may not use space \(section.space)")
            }
            if pushedBySpace[section.space]?.isEmpty == false, !access.member.access.canWrite {
                throw Failure(403, .forbidden, "this token may read but not write (role \(access.member.access.rawValue))")
            }
        }
        let limit = min(max(request.limit ?? limits.pageSize, 1), limits.pageSize)
        var results: [SyncResponse.SpaceResult] = []
        var accepted: [SpaceID: (new: [Change], held: Int)] = [:]
        // Validate everything, then store; a concurrent writer (another server process)
        // makes the store refuse with a conflict, and the whole request is checked again.
        for attempt in 1...3 {
            accepted = [:]
            var rejected: [Rejection] = []
            for section in request.spaces {
                guard let changes = pushedBySpace[section.space], !changes.isEmpty else { continue }
                let (new, held, refused) = try await validate(changes, in: section.space)
                accepted[section.space] = (new, held)
                rejected += refused
            }
            if !rejected.isEmpty {
                throw Failure(
                    422, .invalidChanges, "\(rejected.count) of \(pushed) changes were refused; nothing was stored", rejected: rejected)
            }
            do {
                for (space, outcome) in accepted where !outcome.new.isEmpty { try await store.append(outcome.new, to: space) }
                break
            } catch StoreError.conflict where attempt < 3 {
                logger.debug("concurrent append, validating again", metadata: ["attempt": "\(attempt)"])
                continue
            } catch StoreError.conflict {
                throw Failure(409, .conflict, "the same changes were being stored concurrently; retry the request")
            }
        }
        let binary = request.encoding == "binary"
        for section in request.spaces {
            let page = try await store.changes(in: section.space, missingFrom: section.have.vector, after: max(0, section.after ?? 0), limit: limit)
            let serverHas: VersionVector
            if let held = page.held { serverHas = held } else { serverHas = try await store.vector(of: section.space) }
            let outcome = accepted[section.space]
            results.append(
                .init(
                    space: section.space, accepted: outcome?.new.count ?? 0, alreadyHeld: outcome?.held ?? 0, changes: page.changes,
                    more: page.more, serverHas: serverHas, cursor: page.cursor, binary: binary))
        }
        return SyncResponse(spaces: results)
    }

    /// Splits pushed changes into new ones (trimmed to what the store lacks), already held
    /// ones, and refusals with reasons.
    func validate(_ changes: [Change], in space: SpaceID) async throws -> (new: [Change], held: Int, rejected: [Rejection]) {
        var vector = try await store.vector(of: space)
        var new: [Change] = []
        var held = 0
        var rejected: [Rejection] = []
        let now = wallClock.millisecondsSinceEpoch()
        for change in changes {
            let id = change.id
            guard change.space == space else {
                rejected.append(Rejection(id: id, code: .wrongSpace, reason: "belongs to space \(change.space), sent under \(space)"))
                continue
            }
            guard id.counter >= 1, change.counterSpan >= 1, id.counter <= UInt64.max - change.counterSpan else {
                rejected.append(Rejection(id: id, code: .malformed, reason: "occupies no counters or overflows"))
                continue
            }
            if let reason = limits.tooLarge(change) {
                rejected.append(Rejection(id: id, code: .tooLarge, reason: reason))
                continue
            }
            if change.timestamp.wallTime > now, change.timestamp.wallTime - now > limits.maxDriftMilliseconds {
                rejected.append(
                    Rejection(
                        id: id, code: .timestampTooFarAhead,
                        reason:
                            "timestamp is \((change.timestamp.wallTime - now) / 1000) s ahead of the server's clock (at most \(limits.maxDriftMilliseconds / 1000) s); check the device's date and time"
                    ))
                continue
            }
            let have = vector[change.replica]
            if id.counter > have + 1 {
                rejected.append(
                    Rejection(id: id, code: .counterGap, reason: "the server holds \(change.replica) up to \(have); send \(have + 1) first")
                )
                continue
            }
            if let missing = change.dependencies.first(where: { !vector.contains($0) }) {
                rejected.append(
                    Rejection(id: id, code: .missingDependency, reason: "depends on \(missing), which the server does not hold"))
                continue
            }
            if id.counter <= have {
                // A retry or a re-delivery: identical content is fine, different content is not.
                let stored = try await store.storedChanges(
                    in: space, replica: change.replica, counters: id.counter...min(change.lastCounter, have))
                // Same counters, different bytes: someone reused dots. (A re-joined run that
                // overlaps stored changes at other boundaries is trimmed below instead.)
                if let same = stored.first(where: { $0.id == id && $0.counterSpan == change.counterSpan }),
                    ChangeCodec.encode([same]) != ChangeCodec.encode([change])
                {
                    rejected.append(Rejection(id: id, code: .conflictingDuplicate, reason: "the server holds \(id) with different content"))
                    continue
                }
                if change.lastCounter <= have {
                    held += 1
                    continue
                }
                let rest = change.dropping(countersThrough: have)
                new.append(rest)
                vector.record(Dot(rest.replica, rest.lastCounter))
                continue
            }
            new.append(change)
            vector.record(Dot(change.replica, change.lastCounter))
        }
        return (new, held, rejected)
    }
}

/// The limits a server enforces (configurable by flags and environment).
public struct ServerLimits: Sendable {
    /// Largest request body, in bytes (after gzip decoding).
    public var maxBodyBytes = 16 << 20
    /// Most changes pushed in one request.
    public var maxChangesPerRequest = 10_000
    /// Most changes returned per space per response.
    public var pageSize = SyncProtocol.defaultPageSize
    /// Longest inserted text or string value in one change, in bytes.
    public var maxTextBytes = 1 << 20
    /// How far ahead of the server's clock a change's timestamp may be.
    public var maxDriftMilliseconds: UInt64 = HybridLogicalClock<SystemWallClock>.defaultMaxDriftMilliseconds

    public init() {}

    /// Why a change exceeds the limits, if it does.
    func tooLarge(_ change: Change) -> String? {
        if change.field.utf8.count > 256 { return "field name longer than 256 bytes" }
        switch change.operation {
        case .insertText(_, _, let text) where text.utf8.count > maxTextBytes:
            return "inserts \(text.utf8.count) bytes of text (at most \(maxTextBytes))"
        case .set(.string(let text), _) where text.utf8.count > maxTextBytes,
            .add(.string(let text)) where text.utf8.count > maxTextBytes:
            return "a value of \(text.utf8.count) bytes (at most \(maxTextBytes))"
        default:
            return nil
        }
    }
}
