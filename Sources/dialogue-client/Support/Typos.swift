import ArgumentParser
import DialogueModel
import Foundation
import Synchronization

/// "Did you mean …?" where swift-argument-parser gives none: a mistyped subcommand, and a
/// vocabulary value no term matches (it already suggests options). Suggestions come from
/// the model's one edit-distance rule (``Suggestions``).
enum Typos {
    /// The hint for a usage error of `arguments` (the command line after the program's
    /// name): the nearest subcommand to an unknown one, else the nearest term to the last
    /// vocabulary value no term matched; `nil` when there is none.
    static func hint(for arguments: [String], root: any ParsableCommand.Type) -> String? {
        subcommandHint(arguments, root: root) ?? termHint()
    }

    /// Walks `arguments` down the command tree; the first word near a subcommand's name
    /// but naming none, where subcommands are expected, is the typo.
    static func subcommandHint(_ arguments: [String], root: any ParsableCommand.Type) -> String? {
        var command = root
        for argument in arguments where !argument.hasPrefix("-") {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty else { return nil }
            if let next = subcommands.first(where: { names(of: $0).contains(argument) }) {
                command = next
                continue
            }
            // A word far from every subcommand may be an option's value: look further.
            if let near = Suggestions.nearest(to: argument, in: subcommands.flatMap(names(of:))) { return "Did you mean '\(near)'?" }
        }
        return nil
    }

    private static func names(of command: any ParsableCommand.Type) -> [String] {
        [command._commandName] + command.configuration.aliases
    }

    /// The vocabulary values refused while parsing this command line, the last last.
    private static let misses = Mutex<[UnknownTermError]>([])

    /// Notes a typed value that names no term (the parser then reports it as invalid).
    static func noteMiss(_ error: UnknownTermError) { misses.withLock { $0.append(error) } }

    private static func termHint() -> String? {
        misses.withLock { $0.last }?.suggestion.map { "Did you mean '\($0)'?" }
    }

    /// Prints the parser's message for a usage `error` with `hint` on its first line, and exits 64.
    static func exit(usage error: any Error, hint: String, command: any ParsableCommand.Type) -> Never {
        var lines = command.fullMessage(for: error).components(separatedBy: "\n")
        if lines[0].hasSuffix(":") {
            // The first line introduces a list of values: the hint goes after it.
            let end = lines.firstIndex { $0.hasPrefix("Help:") || $0.hasPrefix("Usage:") } ?? lines.count
            lines.insert(hint, at: end)
        } else {
            lines[0] += (lines[0].hasSuffix(".") ? " " : ". ") + hint
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        Foundation.exit(ExitCode.validationFailure.rawValue)
    }
}

/// A vocabulary option or argument, read with the model's one matching rule
/// (``VocabularyTerm/init(matching:)``): the raw value or the display name, in any case.
public protocol VocabularyArgument: VocabularyTerm, ExpressibleByArgument {}

extension VocabularyArgument {
    public init?(argument: String) {
        guard let term = Self(matching: argument) else {
            Typos.noteMiss(UnknownTermError(argument, among: Self.self))
            return nil
        }
        self = term
    }
}
