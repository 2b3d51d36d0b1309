import DialogueModel
import DialogueSync
import Foundation

/// Spaces named on the command line, by id or by their name in the space directory.
extension Replica {
    /// The space `text` names: a space id as given, or the one space of the space directory
    /// with that name (letter case ignored). An unknown or ambiguous name is a usage error
    /// listing the spaces of the directory with their names.
    nonisolated func spaceNamed(_ text: String) throws -> SpaceID {
        if let id = UUID(uuidString: text) { return SpaceID(id) }
        guard let directory = try spaceDirectory() else {
            throw ClientError.usage(
                "spaces are named in your space directory, which `dialogue-client login` brings; log in first, or give the space's id (not «\(Terminal.line(text))»)")
        }
        let matches = directory.entries.filter { $0.name.compare(text, options: .caseInsensitive) == .orderedSame }
        if matches.count == 1 { return matches[0].space }
        let listing = directory.entries.map { "«\(Terminal.line($0.name))» \($0.space) (\($0.kind.rawValue))" }.joined(separator: ", ")
        if matches.isEmpty {
            throw ClientError.usage(
                "no space is named «\(Terminal.line(text))»; your spaces: \(listing.isEmpty ? "none" : listing)")
        }
        throw ClientError.usage("«\(Terminal.line(text))» names \(matches.count) spaces; give one's id: \(listing)")
    }
}
