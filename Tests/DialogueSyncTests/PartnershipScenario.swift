import DialogueModel
import Foundation
import Testing

@testable import DialogueSync

/// Milliseconds at 09:00 UTC on a day of March 2025 (day 32 is 1 April).
func march2025(_ day: Int) -> Int64 { 1_740_819_600_000 + Int64(day - 1) * 86_400_000 }

/// Midnight UTC starting a day of March 2025 (day 32 is 1 April).
func march2025Midnight(_ day: Int) -> Int64 { 1_740_787_200_000 + Int64(day - 1) * 86_400_000 }

/// A partnership space written on two certified devices, Ada's and Ben's, with counts
/// chosen so that every figure of the partnership report is known (see each `let`).
///
/// Everything is reproducible: the replicas' ids, the entity ids (seeded), the members'
/// and schools' ids and names, so that an export can be compared byte for byte.
struct PartnershipScenario {
    static let space = SpaceID(UUID(uuidString: "5ace0000-0000-4000-8000-0000000000a1")!)
    static let adaDevice = ReplicaID(rawValue: 0xADA0_0000_0000_0001)!
    static let benDevice = ReplicaID(rawValue: 0xBE00_0000_0000_0002)!
    static let adaMember = EntityID(UUID(uuidString: "a0a00000-0000-4000-8000-000000000001")!)
    static let benMember = EntityID(UUID(uuidString: "be000000-0000-4000-8000-000000000002")!)
    static let northgate = UUID(uuidString: "5c000000-0000-4000-8000-0000000000c1")!
    static let valeSchool = UUID(uuidString: "5c000000-0000-4000-8000-0000000000c2")!

    let directory = TemporaryDirectory()
    let server = SigningKeyPair()
    let ada: Replica
    let ben: Replica
    var certificates: [DeviceCertificate] = []

    // The space's own records of schools and people.
    var hill = EntityID(UUID())
    var vale = EntityID(UUID())
    var carl = EntityID(UUID())
    /// In March: s1 (3rd, Hill, Ada, Ben taking part: cross-school), s2 (10th, Hill, Ada,
    /// Carl of Hill: not), s3 (17th, Vale, Ben: not), s4 (20th, no host or facilitator,
    /// Ada and Ben taking part: cross-school). Outside: s5 (5 April), s6 (unscheduled),
    /// s7 (12 March, deleted).
    var sessions: [EntityID] = []
    /// i1 (s1, Ada, synergy + shared responsibility), i2 (s2, Ada, synergy), i3 (s4, Ada,
    /// none), i4 (s3, Ben, leadership capacity), i5 (s1, Ben, none), i6 (s5, Ada, synergy: outside).
    var insights: [EntityID] = []
    /// a1 (s1, open, due 21 March), a2 (s1, open, due 22 March), a3 (s2, done, due 1 March),
    /// a4 (i4's, open, undated), a5 (s3, open, due 30 April), a6 (s5, open, due 1 March:
    /// outside), a7 (s4, cancelled, due 10 March).
    var actions: [EntityID] = []

    init() async throws {
        try createReplicaFile(at: directory.path("ada.sqlite"), id: Self.adaDevice)
        try createReplicaFile(at: directory.path("ben.sqlite"), id: Self.benDevice)
        let adaIDs = SeededEntityIDs(seed: 1)
        let benIDs = SeededEntityIDs(seed: 2)
        ada = try Replica(path: directory.path("ada.sqlite"), wallClock: ManualWallClock(1_741_000_000_000), entityIDs: adaIDs.next)
        ben = try Replica(path: directory.path("ben.sqlite"), wallClock: ManualWallClock(1_741_000_000_000), entityIDs: benIDs.next)
        try await login(ada, member: Self.adaMember, name: "Ada Lovelace", school: Self.northgate, schoolName: "Northgate")
        try await login(ben, member: Self.benMember, name: "Ben Okafor", school: Self.valeSchool, schoolName: "Vale Academy")
        for replica in [ada, ben] { try await replica.addSpace(Self.space) }
        let (adaMember, benMember) = (Self.adaMember, Self.benMember)

        let people = try await ada.edit(in: Self.space) { editor in
            let hill = try editor.createSchool("Hill School")
            let vale = try editor.createSchool("Vale School")
            // Ada and Ben under their certified member ids; Carl has no device.
            for (id, name, home) in [(adaMember, "Ada Lovelace", hill), (benMember, "Ben Okafor", vale)] {
                _ = try editor.create(.member, id: id)
                try editor.set(Member.Key.displayName, of: id, to: name)
                try editor.set(Member.Key.homeSchool, of: id, to: home)
            }
            let carl = try editor.createMember("Carl Jones", homeSchool: hill)
            return (hill, vale, carl)
        }
        (hill, vale, carl) = people
        let (hill, vale, carl) = people
        sessions = try await ada.edit(in: Self.space) { editor in
            let s1 = try editor.createSession(
                title: "Feedback that moves learning on", scheduledAt: march2025(3), hostSchool: hill, facilitator: adaMember,
                strategy: .dialogue, focus: "Written feedback", status: .held)
            try editor.addParticipant(benMember, to: s1)
            let s2 = try editor.createSession(
                title: "Reading for pleasure", scheduledAt: march2025(10), hostSchool: hill, facilitator: adaMember)
            try editor.addParticipant(carl, to: s2)
            let s3 = try editor.createSession(title: "Maths talk", scheduledAt: march2025(17), hostSchool: vale, facilitator: benMember)
            let s4 = try editor.createSession(title: "Open forum", scheduledAt: march2025(20))
            try editor.addParticipant(adaMember, to: s4)
            try editor.addParticipant(benMember, to: s4)
            let s5 = try editor.createSession(title: "April visit", scheduledAt: march2025(35), hostSchool: vale, facilitator: benMember)
            let s6 = try editor.createSession(title: "Some day", hostSchool: hill, facilitator: adaMember)
            let s7 = try editor.createSession(
                title: "Cancelled visit", scheduledAt: march2025(12), hostSchool: vale, facilitator: adaMember)
            try editor.delete(s7)
            return [s1, s2, s3, s4, s5, s6, s7]
        }
        let s = sessions
        let adaInsights = try await ada.edit(in: Self.space) { editor in
            [
                try editor.captureInsight(
                    in: s[0], text: "Peer feedback needs modelling first.", kind: .reflection, hallmarks: [.synergy, .sharedResponsibility]),
                try editor.captureInsight(in: s[1], text: "Pupils choose books, and read more.", hallmarks: [.synergy]),
                try editor.captureInsight(in: s[3], text: "Questions first."),
                try editor.captureInsight(in: s[4], text: "April: outside the period.", hallmarks: [.synergy]),
            ]
        }
        try await signedSync(Self.space, from: ada, to: ben, evidence: evidence)
        let benInsights = try await ben.edit(in: Self.space) { editor in
            [
                try editor.captureInsight(in: s[2], text: "Talk partners help.", hallmarks: [.leadershipCapacity]),
                try editor.captureInsight(in: s[0], text: "Success criteria, shared."),
            ]
        }
        insights = [adaInsights[0], adaInsights[1], adaInsights[2], benInsights[0], benInsights[1], adaInsights[3]]
        let i4 = benInsights[0]
        actions = try await ben.edit(in: Self.space) { editor in
            let a1 = try editor.addAction("Draft the guide", owner: adaMember, dueDate: "2025-03-21", session: s[0])
            let a2 = try editor.addAction("Share with Vale", owner: benMember, dueDate: "2025-03-22", session: s[0])
            let a3 = try editor.addAction("Buy books", owner: carl, dueDate: "2025-03-01", session: s[1])
            try editor.complete(a3)
            let a4 = try editor.addAction("Try talk partners", insight: i4)
            let a5 = try editor.addAction("Visit Hill", owner: benMember, dueDate: "2025-04-30", session: s[2])
            let a6 = try editor.addAction("Plan April", dueDate: "2025-03-01", session: s[4])
            let a7 = try editor.addAction("Forum notes", dueDate: "2025-03-10", session: s[3])
            try editor.set(Action.Key.status, of: a7, to: .cancelled)
            return [a1, a2, a3, a4, a5, a6, a7]
        }
        try await signedSync(Self.space, from: ben, to: ada, evidence: evidence)
    }

    var evidence: DeviceEvidence { DeviceEvidence(certificates: certificates) }

    /// Logs `replica` in as `member` under the scenario's server key; its directory names the space.
    private mutating func login(_ replica: Replica, member: EntityID, name: String, school: UUID, schoolName: String) async throws {
        let certificate = DeviceCertificate.issue(
            replica: replica.id, publicKey: replica.devicePublicKey, member: member.uuid, memberName: name, school: school,
            schoolName: schoolName, issuedAt: 1, signedBy: server)
        let entry = SpaceDirectory.Entry(space: Self.space, name: "North Partnership", kind: .shared, owner: UUID())
        let directory = SpaceDirectory.issue(member: member.uuid, issuedAt: 1, entries: [entry], signedBy: server)
        try await replica.adopt(
            VerifiedRegistration(
                ring: ServerKeyRing(pinned: server.publicKey), certificate: certificate, directory: directory, startsNewPin: true))
        certificates.append(certificate)
    }
}
