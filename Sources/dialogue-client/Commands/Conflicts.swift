import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `conflicts`: fields where a concurrent value lost.
struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List fields two people set concurrently: the value kept, and each value that lost, with who and when.",
        discussion:
            "Who: the member the writing device is certified for, as \"Ada Lovelace (Northgate)\"; a device whose certificate this replica does not hold is shown as \"an unverified device 3f2a9c01…\"."
    )

    @Option(help: "Only this space: its UUID or its name.") var space: SpaceArgument?
    @Option(help: "Only this entity: its id, an id prefix or its name or title.") var entity: IDArgument?
    @OptionGroup var global: GlobalOptions

    struct Write: Encodable {
        var value: String
        /// The device that wrote it (replica id).
        var replica: String
        /// Who: the device's certified member, or an unverified device.
        var author: DeviceAuthor
        var at: String
    }

    struct Listed: Encodable {
        var entity: EntityID
        var kind: String
        var space: SpaceID
        /// The space's name in the verified directory (left out when not listed).
        var spaceName: String?
        var field: String
        var kept: Write
        var lost: [Write]
    }

    /// A write as `--json` gives it (UTC times) or, with `dates`, as the text shows it.
    static func write(_ value: ConflictValue, _ names: AuthorNames, dates: DateText? = nil) -> Write {
        let text: String =
            if value.invalid == true {
                value.value == .null ? SessionMinutes.invalid : "\(value.value.description) \(SessionMinutes.invalid)"
            } else {
                switch value.value {
                case .null: "(cleared)"
                case .string(let string): string
                case .timestamp(let time): dates?.time(time) ?? Output.time(time)
                case .reference(let id): id.description
                default: value.value.description
                }
            }
        return Write(
            value: text, replica: value.replica.description, author: names.author(of: value.replica),
            at: dates?.time(Int64(value.timestamp.wallTime), seconds: true) ?? Output.time(Int64(value.timestamp.wallTime)))
    }

    /// A value as one quoted line of the text output.
    static func quoted(_ value: String) -> String {
        "\"" + Terminal.line(value) + "\""
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            var chosen: SpaceID?
            if let space { chosen = try await replica.chooseSpace(space) }
            let entity = try await replica.resolve(self.entity, nil)
            let names = try replica.authorNames()
            let column = SpaceColumn(try await replica.spaceNames(), listing: chosen.map { [$0] })
            let records = try replica.conflicts(in: chosen, entity: entity)
            func listed(_ dates: DateText?) -> [Listed] {
                records.map { record in
                    Listed(
                        entity: record.entity, kind: record.entityKind.rawValue, space: record.space,
                        spaceName: column.names.space(record.space).name, field: record.field,
                        kept: Self.write(record.winner, names, dates: dates),
                        lost: record.losers.map { Self.write($0, names, dates: dates) })
                }
            }
            let conflicts = listed(nil)
            let short = await replica.shortIDs(records.map(\.entity))
            let text = listed(global.dates).map { conflict in
                ([
                    "\(conflict.kind) \(short[conflict.entity] ?? conflict.entity.description) "
                        + (EntityKind(rawValue: conflict.kind)?.field(named: conflict.field)?.displayName ?? conflict.field)
                        + (column.shown ? " in \(Terminal.line(column.cell(conflict.space))):" : ":"),
                    "  kept  \(Self.quoted(conflict.kept.value)) by \(Terminal.line(conflict.kept.author.description)) at \(conflict.kept.at)",
                ]
                    + conflict.lost.map { "  lost  \(Self.quoted($0.value)) by \(Terminal.line($0.author.description)) at \($0.at)" })
                    .joined(separator: "\n")
            }.joined(separator: "\n")
            try global.emit(conflicts, conflicts.isEmpty ? "no conflicts" : text)
        }
    }
}
