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
    /// The pure state of the spaces served, for checking references before storing.
    let documents: SpaceDocuments
    /// Device certificates decoded once; revocations read fresh at every use.
    let statements: DeviceStatements

    public init(store: any SyncStore, limits: ServerLimits = ServerLimits(), wallClock: any WallClock = SystemWallClock(), logger: Logger) {
        self.store = store
        self.limits = limits
        self.wallClock = wallClock
        self.logger = logger
        documents = SpaceDocuments(capacity: limits.documentCacheSpaces, logger: logger)
        statements = DeviceStatements()
    }

    /// How many device certificates were read and decoded from the store so far (each is
    /// read once, then kept: docs/TRUST.md, "Costs").
    public var certificateReads: Int { statements.certificateReads }

    /// How many device certificates sync answers carried so far (a replica that lists a
    /// certificate as held is not sent it again).
    public var certificatesSent: Int { statements.certificatesSent }

    /// A refusal with its HTTP status and JSON body.
    public struct Failure: Error, Sendable {
        public var status: Int
        public var body: ErrorBody
        /// For 429: when to try again (the `Retry-After` header).
        public var retryAfterSeconds: Int?

        init(_ status: Int, _ code: SyncErrorCode, _ message: String, rejected: [Rejection]? = nil) {
            self.status = status
            body = ErrorBody(code: code, message: message, rejected: rejected)
        }

        /// Changes of a request refused (by the checks before storing, or the reference
        /// check against the server's documents): the whole request is, nothing stored.
        static func refused(_ rejected: [Rejection], of pushed: Int) -> Failure {
            Failure(422, .invalidChanges, "\(rejected.count) of \(pushed) changes were refused; nothing was stored", rejected: rejected)
        }

        /// An erasure its writer may not make, or content withheld (stripped changes no
        /// erasure covers): 403 `erasure_not_permitted`, the whole request refused.
        static func erasureRefused(_ rejected: [Rejection], of pushed: Int) -> Failure {
            let reasons = rejected.filter { $0.code == RejectionCode.erasureNotPermitted.rawValue }.map(\.reason)
            return Failure(
                403, .erasureNotPermitted, "\(reasons.joined(separator: "; ")); nothing of the \(pushed) changes was stored",
                rejected: rejected)
        }
    }

    /// What the authenticated caller may touch.
    public struct Access: Sendable {
        public var member: MemberAccount
        /// Their school's spaces and their own personal space.
        public var spaces: Set<SpaceID>
        /// Their own personal space, which they write whatever their role.
        public var personalSpace: SpaceID?

        public init(member: MemberAccount, spaces: Set<SpaceID>, personalSpace: SpaceID? = nil) {
            self.member = member
            self.spaces = spaces
            self.personalSpace = personalSpace
        }

        func isPersonal(_ space: SpaceID) -> Bool { personalSpace == space && spaces.contains(space) }
    }

    /// How many changes one request pushed, stored and received (for metrics and logs).
    public struct Counts: Sendable, Equatable {
        public var pushed = 0
        public var stored = 0
        public var returned = 0
    }

    /// How many times a space's document was built from the store (a cache miss); refused
    /// pushes never add to it.
    public var documentRebuilds: Int {
        get async { await documents.rebuilds }
    }

    /// Handles one sync request.
    public func sync(_ request: SyncRequest, access: Access) async throws -> SyncResponse {
        try await syncCounting(request, access: access).response
    }

    /// Handles one sync request, and says how many changes moved each way.
    public func syncCounting(_ request: SyncRequest, access: Access) async throws -> (response: SyncResponse, counts: Counts) {
        guard request.protocol == SyncProtocol.version else { throw Self.unsupported(request.protocol) }
        guard Set(request.spaces.map(\.space)).count == request.spaces.count else {
            throw Failure(400, .malformedRequest, "a space appears twice in the request")
        }
        var pushedBySpace: [SpaceID: [Change]] = [:]
        var headsBySpace: [SpaceID: [ChainHead]] = [:]
        for section in request.spaces {
            do { pushedBySpace[section.space] = try section.allChanges() } catch {
                throw Failure(400, .malformedRequest, "changesBinary of space \(section.space) cannot be read: \(error)")
            }
            do { headsBySpace[section.space] = try section.allHeads() } catch {
                throw Failure(400, .malformedRequest, "headsBinary of space \(section.space) cannot be read: \(error)")
            }
        }
        let pushed = pushedBySpace.values.reduce(0) { $0 + $1.count }
        guard pushed <= limits.maxChangesPerRequest else {
            throw Failure(413, .payloadTooLarge, "\(pushed) changes in one request; send at most \(limits.maxChangesPerRequest) at a time")
        }
        // Forbidden is the same answer for a space that exists elsewhere and one that does not.
        for section in request.spaces {
            guard access.spaces.contains(section.space) else {
                throw Failure(403, .spaceNotPermitted, "this token may not use space \(section.space)")
            }
            // An observer reads their school's spaces but writes their own personal space.
            if pushedBySpace[section.space]?.isEmpty == false, !access.member.access.canWrite,
                !access.isPersonal(section.space)
            {
                throw Failure(403, .forbidden, "this token may read but not write (role \(access.member.access.rawValue))")
            }
        }
        let limit = min(max(request.limit ?? limits.pageSize, 1), limits.pageSize)
        var results: [SyncResponse.SpaceResult] = []
        var accepted: [SpaceID: (new: [Change], held: Int)] = [:]
        // The server's keys, read once per request (a rotation takes effect at the next one).
        let authority = ServerAuthority(store: store, wallClock: wallClock)
        let keys = try await authority.keys()
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
            if !rejected.isEmpty { throw Failure.refused(rejected, of: pushed) }
            // Every run must be signed by its author's certified device (docs/TRUST.md).
            var verifier = statements.verifier(for: try keys.ring)
            var members: [ReplicaID: UUID] = [:]
            for section in request.spaces {
                guard let new = accepted[section.space]?.new, !new.isEmpty else { continue }
                rejected += try await verifySignatures(
                    new, heads: headsBySpace[section.space] ?? [], in: section.space, verifier: &verifier,
                    members: &members)
            }
            statements.keep(verifier)
            if !rejected.isEmpty { throw Failure.refused(rejected, of: pushed) }
            // References into the CRDT state (text origins, list items) are checked against
            // the server's documents, under the spaces' locks until the changes are stored.
            let writing = accepted.filter { !$0.value.new.isEmpty }.map(\.key).sorted()
            let new = accepted.mapValues(\.new)
            let ring = try keys.ring
            let (statements, store) = (statements, store)
            let certifiedMembers: @Sendable ([ReplicaID]) async throws -> [ReplicaID: UUID] = { replicas in
                try await statements.certificates(of: replicas, store: store).mapValues(\.member)
            }
            do {
                rejected = try await documents.withLock(writing) {
                    // Each space's changes go to a scratch copy of its document; the copies
                    // replace the cached documents only once everything is stored, so a
                    // refusal (or a failed append) leaves the cache as it was.
                    var checked: [SpaceDocuments.Checked] = []
                    var refused: [Rejection] = []
                    for space in writing {
                        switch try await documents.check(
                            new[space]!, in: space, members: members, ring: ring,
                            personalOwner: access.isPersonal(space) ? access.member.id : nil, certifiedMembers: certifiedMembers,
                            store: store)
                        {
                        case .success(let document): checked.append(document)
                        case .failure(let refusal): refused += refusal.rejected
                        }
                    }
                    guard refused.isEmpty else { return refused }
                    for document in checked {
                        let heads = Self.heads(headsBySpace[document.space] ?? [], signing: new[document.space]!, in: document.space)
                        try await store.append(document.stored, heads: heads, to: document.space)
                    }
                    for document in checked {
                        if document.erasing {
                            try await documents.commitErasing(document, store: store)
                        } else {
                            await documents.commit(document)
                        }
                    }
                    return []
                }
                if rejected.contains(where: { $0.code == RejectionCode.erasureNotPermitted.rawValue }) {
                    throw Failure.erasureRefused(rejected, of: pushed)
                }
                if !rejected.isEmpty { throw Failure.refused(rejected, of: pushed) }
                break
            } catch StoreError.conflict where attempt < 3 {
                logger.debug("concurrent append, validating again", metadata: ["attempt": "\(attempt)"])
                continue
            } catch StoreError.conflict {
                throw Failure(409, .conflict, "the same changes were being stored concurrently; retry the request")
            }
        }
        let binary = request.encoding == "binary"
        var counts = Counts(pushed: pushed, stored: accepted.values.reduce(0) { $0 + $1.new.count })
        for section in request.spaces {
            let have = section.have.vector
            var signed = try await signedPage(in: section.space, missingFrom: have, after: max(0, section.after ?? 0), limit: limit)
            var serverHas: VersionVector
            if let held = signed.page.held { serverHas = held } else { serverHas = try await store.vector(of: section.space) }
            // A cursor from before a restore (or from another server) can skip changes: if the
            // scan ended but the replica would still lack something, scan from the start.
            if !signed.page.more, (section.after ?? 0) > 0, !Self.covers(have, signed.page.changes, serverHas) {
                logger.notice("cursor skipped changes; scanning the space again", metadata: ["space.id": "\(section.space)"])
                signed = try await signedPage(in: section.space, missingFrom: have, after: 0, limit: limit)
                if let held = signed.page.held { serverHas = held } else { serverHas = try await store.vector(of: section.space) }
            }
            let page = signed.page
            let (certificates, revocations) = try await statements(for: signed.authors, of: section)
            let outcome = accepted[section.space]
            counts.returned += page.changes.count
            results.append(
                .init(
                    space: section.space, accepted: outcome?.new.count ?? 0, alreadyHeld: outcome?.held ?? 0, changes: page.changes,
                    heads: signed.heads, certificates: certificates, revocations: revocations, more: page.more, serverHas: serverHas,
                    cursor: page.cursor, binary: binary))
        }
        let directory = try await signedDirectory(for: access.member, keys: keys, authority: authority)
        let people = try await authority.peopleDirectory(for: access.member, held: request.people, keys: keys)
        return (SyncResponse(spaces: results, directory: directory, endorsements: keys.endorsements, people: people), counts)
    }

    /// The statements that let the replica verify a page (signed by the server; it checks
    /// them against its pin): the certificates of the page's `authors` that the request does
    /// not list as held at the same or a later `issuedAt`, and the revocations of every
    /// revoked device among the page's authors and the devices the replica holds changes of
    /// (`have`), always, whatever it lists: a replica holding a revoked device's changes
    /// learns of the revocation at its next sync.
    func statements(
        for authors: [ReplicaID], of section: SyncRequest.SpaceSync
    ) async throws -> (certificates: [DeviceCertificate], revocations: [DeviceRevocation]) {
        let known = try await statements.certificates(of: authors, store: store)
        var certificates: [DeviceCertificate] = []
        for author in authors {
            guard let certificate = known[author] else { continue }
            if let held = section.certified[author], held >= certificate.issuedAt { continue }
            certificates.append(certificate)
        }
        statements.recordSent(certificates.count)
        var concerned = authors
        var seen = Set(authors)
        for dot in section.have.vector.lastDots where seen.insert(dot.replica).inserted { concerned.append(dot.replica) }
        let revoked = try await statements.revocations(of: concerned, store: store)
        return (certificates, concerned.compactMap { revoked[$0] })
    }

    /// The member's space directory: the one signed for an earlier answer while it lists the
    /// same spaces (names, kinds, legacy vectors, read from the store at every answer) under
    /// the same key, else a fresh one.
    func signedDirectory(for member: MemberAccount, keys: ServerAuthority.Keys, authority: ServerAuthority) async throws -> SpaceDirectory {
        let entries = try await store.spaceListings(of: member)
        let now = Int64(clamping: wallClock.millisecondsSinceEpoch())
        if let kept = statements.directory(for: member.id, entries: entries, signer: keys.current.publicKey, now: now) { return kept }
        let directory = authority.directory(for: member, entries: entries, keys: keys)
        statements.keep(directory)
        return directory
    }

    /// The refusal of a request in another protocol version: protocol 1 clients sent
    /// unsigned changes, which this server no longer accepts.
    static func unsupported(_ version: Int) -> Failure {
        if version < SyncProtocol.version {
            return Failure(
                422, .unsupportedProtocol,
                "this server speaks sync protocol \(SyncProtocol.version), in which devices sign what they write; the request used protocol \(version). Upgrade dialogue-client (or the app), then run 'dialogue-client login' to register this device"
            )
        }
        return Failure(
            422, .unsupportedProtocol,
            "this server speaks sync protocol \(SyncProtocol.version), the request used \(version); update the server or use a matching client"
        )
    }

    /// Whether a stored change and a pushed one hold the same counters alike. A change the
    /// store holds stripped (an erasure covered it) agrees with its content as its author
    /// wrote it (a stale device sending it again), and the other way round: only the kept
    /// hashes are compared then.
    static func agrees(_ stored: Change, _ pushed: Change) -> Bool {
        if stored.agrees(with: pushed) { return true }
        guard stored.isContentErased || pushed.isContentErased else { return false }
        return stored.erasingContent().agrees(with: pushed.erasingContent())
    }

    /// Whether `have` plus `page` holds everything in `serverHas`.
    static func covers(_ have: VersionVector, _ page: [Change], _ serverHas: VersionVector) -> Bool {
        var after = have
        for change in page { after.record(Dot(change.replica, change.lastCounter)) }
        return serverHas.lastDots.allSatisfy { after[$0.replica] >= $0.counter }
    }

    /// Splits pushed changes into new ones (trimmed to what the store lacks), already held
    /// ones, and refusals with reasons.
    func validate(_ changes: [Change], in space: SpaceID) async throws -> (new: [Change], held: Int, rejected: [Rejection]) {
        var vector = try await store.vector(of: space)
        let stored = vector  // what the store holds; `vector` grows with this request's changes
        var earlier: [ReplicaID: [Change]] = [:]  // this request's new changes, by author
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
            if let problem = change.shapeProblem {
                rejected.append(Rejection(id: id, code: .malformed, reason: problem))
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
                // The counters held must hold the same content: same change, or the same
                // characters of a run joined at other boundaries. Otherwise someone reused dots.
                // Held means stored, or sent earlier in this request: both are compared.
                if id.counter <= stored[change.replica] {
                    let overlap = try await store.storedChanges(
                        in: space, replica: change.replica, counters: id.counter...min(change.lastCounter, stored[change.replica]))
                    if let clash = overlap.first(where: { !Self.agrees($0, change) }) {
                        rejected.append(
                            Rejection(id: id, code: .conflictingDuplicate, reason: "the server holds \(clash.id) with different content"))
                        continue
                    }
                }
                let overlapping = earlier[change.replica]?.filter { $0.lastCounter >= id.counter && $0.id.counter <= change.lastCounter }
                if let clash = overlapping?.first(where: { !$0.agrees(with: change) }) {
                    rejected.append(
                        Rejection(
                            id: id, code: .conflictingDuplicate, reason: "this request also holds \(clash.id) with different content"))
                    continue
                }
                if change.lastCounter <= have {
                    held += 1
                    continue
                }
                let rest = change.dropping(countersThrough: have)
                new.append(rest)
                earlier[rest.replica, default: []].append(rest)
                vector.record(Dot(rest.replica, rest.lastCounter))
                continue
            }
            new.append(change)
            earlier[change.replica, default: []].append(change)
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
    /// How many spaces' documents the server keeps in memory to check the references of
    /// pushed changes (the least recently used beyond this are rebuilt from the store).
    public var documentCacheSpaces = 64
    /// How far ahead of the server's clock a change's timestamp may be.
    public var maxDriftMilliseconds: UInt64 = HybridLogicalClock<SystemWallClock>.defaultMaxDriftMilliseconds

    // Limits at the door (see DEPLOYMENT.md): slow or idle connections, their number, and
    // how often one address or token may fail to authenticate or push.

    /// A connection that delivers no complete request part for this long is closed: one that
    /// sends nothing, idles between requests, or trickles a request head (the header read
    /// timeout is this one).
    public var idleTimeout: Duration = .seconds(30)
    /// A request's body must be complete this long after its head.
    public var bodyTimeout: Duration = .seconds(60)
    /// Most connections open at once; beyond it new ones wait in the listen backlog.
    public var maxConnections = 512
    /// Failed authentications one address may make (a school behind one NAT shares it).
    public var authFailuresPerAddress = RateLimit(perMinute: 30)
    /// Failed authentications with one token (a lost device's revoked token retrying).
    public var authFailuresPerToken = RateLimit(perMinute: 10)
    /// Pushes (requests that carry changes) by one token.
    public var pushesPerToken = RateLimit(perMinute: 300)
    /// Pushes from one address.
    public var pushesPerAddress = RateLimit(perMinute: 3000)

    public init() {}

    /// Why a change exceeds the limits, if it does.
    func tooLarge(_ change: Change) -> String? {
        if change.field.utf8.count > 256 { return "field name longer than 256 bytes" }
        if change.counterSpan > UInt64(maxTextBytes) { return "occupies \(change.counterSpan) counters (at most \(maxTextBytes))" }
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
