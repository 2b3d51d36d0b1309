import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `conflicts`: fields where a concurrent value lost.
struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List fields two people set concurrently: the value kept, and each value that lost, with who and when.")

    @Option(help: "Only this space.") var space: SpaceID?
    @Option(help: "Only this entity.") var entity: EntityID?
    @OptionGroup var global: GlobalOptions

    struct Write: Encodable {
        var value: String
        var replica: String
        var at: String
    }

    struct Listed: Encodable {
        var entity: EntityID
        var kind: String
        var space: SpaceID
        var field: String
        var kept: Write
        var lost: [Write]
    }

    static func write(_ value: ConflictValue) -> Write {
        let text: String =
            if value.invalid == true {
                value.value == .null ? Render.invalid : "\(value.value.description) \(Render.invalid)"
            } else {
                switch value.value {
                case .null: "(cleared)"
                case .string(let string): string
                case .timestamp(let time): Output.time(time)
                case .reference(let id): id.description
                default: value.value.description
                }
            }
        return Write(value: text, replica: value.replica.description, at: Output.time(Int64(value.timestamp.wallTime)))
    }

    /// A value as one quoted line of the text output.
    static func quoted(_ value: String) -> String {
        "\"" + Terminal.line(value) + "\""
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            if let space { _ = try await replica.chooseSpace(space) }
            let conflicts = try replica.conflicts(in: space, entity: entity).map { record in
                Listed(
                    entity: record.entity, kind: record.entityKind.rawValue, space: record.space, field: record.field,
                    kept: Self.write(record.winner), lost: record.losers.map(Self.write))
            }
            let text = conflicts.map { conflict in
                ([
                    "\(conflict.kind) \(conflict.entity) \(conflict.field):",
                    "  kept  \(Self.quoted(conflict.kept.value)) by replica \(conflict.kept.replica) at \(conflict.kept.at)",
                ]
                    + conflict.lost.map { "  lost  \(Self.quoted($0.value)) by replica \($0.replica) at \($0.at)" }).joined(separator: "\n")
            }.joined(separator: "\n")
            try global.emit(conflicts, conflicts.isEmpty ? "no conflicts" : text)
        }
    }
}
