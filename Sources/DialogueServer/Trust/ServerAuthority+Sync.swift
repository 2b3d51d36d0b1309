import DialogueModel
import DialogueSync
import Foundation

/// What a sync response carries beside the changes (docs/TRUST.md, "Protocol 2").
extension ServerAuthority {
    /// The member's space directory (names, kinds and legacy vectors), signed by the current key.
    public func directory(for member: MemberAccount, keys: Keys) async throws -> SpaceDirectory {
        directory(for: member, entries: try await store.spaceListings(of: member), keys: keys)
    }

    /// The member's space directory listing `entries`, signed now by the current key.
    func directory(for member: MemberAccount, entries: [SpaceDirectory.Entry], keys: Keys) -> SpaceDirectory {
        SpaceDirectory.issue(
            member: member.id, issuedAt: Int64(clamping: wallClock.millisecondsSinceEpoch()), entries: entries, signedBy: keys.current)
    }

    /// The schools and members `member` may see named, signed now by the current key; `nil`
    /// when its content digest is `held` (the replica has it already).
    func peopleDirectory(for member: MemberAccount, held: String?, keys: Keys) async throws -> PeopleDirectory? {
        let visible = try await store.people(visibleTo: member.school)
        let now = Int64(clamping: wallClock.millisecondsSinceEpoch())
        let unsigned = PeopleDirectory(
            member: member.id, issuedAt: now, schools: visible.schools, people: visible.people, signer: keys.current.publicKey,
            signature: [])
        guard unsigned.contentDigest != held else { return nil }
        return PeopleDirectory.issue(
            member: member.id, issuedAt: now, schools: visible.schools, people: visible.people, signedBy: keys.current)
    }
}
