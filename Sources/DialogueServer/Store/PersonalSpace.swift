import DialogueModel
import Foundation

/// A member's personal space (issue 13, item 5; docs/PRIVACY.md): their personal
/// reflection, listed only in their own space directory (kind ``SpaceDirectory/Kind/personal``,
/// owner the member), synced only with their own tokens, and left out of every admin
/// command but their own subject access.
public enum PersonalSpace {
    /// The name the member's directory gives it, e.g. "Personal reflection (Ada Lovelace)".
    public static func name(of memberName: String) -> String { "Personal reflection (\(memberName))" }
}
