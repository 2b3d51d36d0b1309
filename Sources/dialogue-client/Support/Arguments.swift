import ArgumentParser
import DialogueModel
import Foundation

extension EntityID: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension SpaceID: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// A space as a person types it: its UUID, or its name in the verified space directory
/// (resolved by ``Replica/chooseSpace(_:)-(SpaceArgument?)``).
struct SpaceArgument: ExpressibleByArgument, Sendable {
    let text: String

    init?(argument: String) {
        guard !argument.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        text = argument
    }
}

/// An entity as a person types it: its id, an unambiguous prefix of it (at least
/// ``Replica/minimumIDPrefix`` hex digits, like git), or, where its kind has one, its name
/// or title. Every id argument of an existing entity is one; it is resolved in one place,
/// ``Replica/resolve(_:_:)`` (Lookup.swift), once the replica is open.
struct IDArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let text: String

    init?(argument: String) {
        guard !argument.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        text = argument
    }

    var description: String { text }
}

extension SessionStatus: VocabularyArgument {}
extension LeadershipStrategy: VocabularyArgument {}
extension Hallmark: VocabularyArgument {}
extension InsightKind: VocabularyArgument {}
extension Influence: VocabularyArgument {}
extension MemberRole: VocabularyArgument {}
extension ActionStatus: VocabularyArgument {}

/// Text from an argument, a file (`--file`), or stdin when the argument is `-`.
enum TextInput {
    static func read(argument: String?, file: String?) throws -> String {
        if let file {
            guard argument == nil else { throw ClientError.usage("give the text as an argument or --file, not both") }
            guard FileManager.default.fileExists(atPath: file) else { throw ClientError.notFound("no file \(file)") }
            do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ClientError.io("cannot read \(file): \(error.localizedDescription)")
            }
        }
        guard let argument else { throw ClientError.usage("give the text as an argument, with --file PATH, or `-` to read stdin") }
        if argument == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            return text
        }
        return argument
    }
}
