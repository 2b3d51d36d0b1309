import DialogueModel
import DialogueSync
import Foundation

/// What a sync response carries beside the changes (docs/TRUST.md, "Protocol 2").
extension ServerAuthority {
    /// The member's space directory, signed by the current key.
    public func directory(for member: MemberAccount, keys: Keys) async throws -> SpaceDirectory {
        let listings = try await store.spaceListings(ofSchool: member.school)
        return SpaceDirectory.issue(
            member: member.id, issuedAt: Int64(clamping: wallClock.millisecondsSinceEpoch()),
            entries: listings.map {
                SpaceDirectory.Entry(space: $0.space, name: $0.name, kind: $0.kind == .private ? .private : .shared, owner: $0.owner)
            },
            signedBy: keys.current)
    }
}
