import DialogueModel
import Foundation

/// The member's personal space (issue 13, item 5; docs/PRIVACY.md): their personal
/// reflection, which the server lists only in their own space directory and shares with
/// nobody else. Their devices hold it like their other spaces, never leave it while the
/// directory lists it, and seed it with the starter library's personal reflection prompts.
extension Replica {
    /// The personal space of this device's member, as the verified space directory lists it
    /// (kind `SpaceDirectory/Kind/personal`, owned by the member this device's certificate
    /// names), or `nil` before the first login or when the directory lists none.
    public nonisolated func personalSpace() throws(ReplicaError) -> SpaceDirectory.Entry? {
        guard let directory = try spaceDirectory(), let certificate = try deviceCertificate() else { return nil }
        return directory.entries.first { $0.kind == .personal && $0.owner == certificate.member }
    }

    /// Starts holding the member's personal space when the directory lists one (nothing to
    /// do when already held, or before the first login). Returns it.
    @discardableResult
    public func holdPersonalSpace() throws(ReplicaError) -> SpaceID? {
        guard let entry = try personalSpace() else { return nil }
        try addSpace(entry.space)
        return entry.space
    }

    /// Adds to the held personal space the personal reflection prompts
    /// (`PromptLibrary/personalReflection`) it has never held, under their fixed ids, in one
    /// transaction; one deleted there stays deleted. Returns how many were added (0 when the
    /// space is not held). Call it once the space has synced, so a second device of the
    /// member finds the first one's prompts (and deletions) instead of writing them again.
    @discardableResult
    public func seedPersonalReflection() throws(ReplicaError) -> Int {
        guard let space = try personalSpace()?.space, let document = try loadedDocument(space) else { return 0 }
        let missing = PromptLibrary.personalReflection.filter { document.kind(of: $0.id) == nil }
        guard !missing.isEmpty else { return 0 }
        do {
            try edit(in: space) { editor in
                for starter in missing { try editor.addStarterPrompt(starter) }
            }
        } catch let error as ReplicaError {
            throw error
        } catch {
            throw .storage("\(error)", underlying: error)
        }
        return missing.count
    }
}
