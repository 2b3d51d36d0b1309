import DialogueModel
import DialogueSync
import Foundation

/// Applies the retention policies the store holds (issue 13 item 2; docs/PRIVACY.md,
/// "Retention"): in each space with one, the records due are erased by erasure changes
/// the server's own device (``ServerDevice``) writes, approved by the server's key and
/// pushed through ``SyncService`` like any device's push, so they are verified, applied
/// to the store and replicated exactly as an admin's erasure would be.
public struct RetentionRunner: Sendable {
    public let service: SyncService
    let authority: ServerAuthority

    public init(service: SyncService) {
        self.service = service
        authority = ServerAuthority(store: service.store)
    }

    /// What a run found, per space with a policy.
    public struct Report: Codable, Sendable, Equatable {
        public var asOf: Int64
        public var dryRun: Bool
        public var spaces: [SpaceReport]
    }

    public struct SpaceReport: Codable, Sendable, Equatable {
        public var space: SpaceID
        public var policy: RetentionPolicy
        /// The records due, by kind then session date.
        public var due: [RetentionCandidate]
        /// How many erasures were stored (0 on a dry run).
        public var erased: Int
    }

    /// Finds (and unless `dryRun`, erases) what the policies say must go as of `asOf`
    /// (milliseconds since 1970), in `only` if given, else in every space with a policy.
    public func run(asOf: Int64, dryRun: Bool, only: SpaceID? = nil) async throws -> Report {
        var report = Report(asOf: asOf, dryRun: dryRun, spaces: [])
        for record in try await service.store.retentionPolicies() where only == nil || record.space == only {
            var document = try await service.store.document(of: record.space)
            let due = RetentionSchedule.due(in: document, policy: record.policy, asOf: asOf)
                .sorted { ($0.kind, $0.sessionDate, $0.entity) < ($1.kind, $1.sessionDate, $1.entity) }
            var erased = 0
            if !dryRun, !due.isEmpty {
                erased = try await erase(due, in: record.space, document: &document, now: asOf)
            }
            report.spaces.append(SpaceReport(space: record.space, policy: record.policy, due: due, erased: erased))
        }
        return report
    }

    /// Writes one erasure per record due, as the server's device, and pushes them.
    private func erase(_ due: [RetentionCandidate], in space: SpaceID, document: inout SpaceDocument, now: Int64) async throws -> Int {
        let keys = try await authority.keys()
        let device = try ServerDevice(keys: keys.records)
        var chain = DeviceChain(space: space, replica: device.replica)
        if let head = try await service.store.latestChainHeads(in: space, of: [device.replica])[device.replica] {
            chain = DeviceChain(space: space, replica: device.replica, counter: head.counter, hash: head.hash)
        }
        guard chain.counter == document.vector[device.replica] else {
            throw StoreError.unavailable(
                "the server device's chain in \(space) stops at \(chain.counter) but \(document.vector[device.replica]) is held")
        }
        var changes: [Change] = []
        let wall = UInt64(max(now, 0))
        for (index, record) in due.enumerated() {
            let target = Erasure.Target.entity(record.entity)
            let approval = ErasureApproval.issue(
                space: space, replica: device.replica, target: target, issuedAt: now, signedBy: keys.current)
            let context = EditContext(replica: device.replica, timestamp: HLCTimestamp(wallTime: wall, logical: UInt16(clamping: index)))
            changes.append(document.erase(Erasure(target: target, approval: approval), by: context))
        }
        try chain.advance(over: changes)
        let request = SyncRequest(
            replica: device.replica,
            spaces: [.init(space: space, have: document.vector, changes: changes, heads: [chain.head(signedBy: device.key)])], limit: 1)
        let access = SyncService.Access(
            member: MemberAccount(id: ServerDevice.member, name: ServerDevice.memberName, school: ServerDevice.member, access: .admin),
            spaces: [space])
        _ = try await service.sync(request, access: access)
        return changes.count
    }
}

extension SyncStore {
    /// The space as the store holds it: every stored change (accepted once) replayed into a
    /// fresh document, a page of 10,000 at a time.
    public func document(of space: SpaceID) async throws -> SpaceDocument {
        var document = SpaceDocument(space: space)
        var cursor: Int64 = 0
        while true {
            let page = try await changes(in: space, missingFrom: VersionVector(), after: cursor, limit: 10_000)
            try document.replay(page.changes)
            guard page.more else { break }
            cursor = page.cursor
        }
        return document
    }
}
