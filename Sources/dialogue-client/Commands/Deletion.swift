import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `… delete` and `… restore` of sessions, insights, actions and prompts: one
/// implementation, the library's (``Replica/deleteEntity(_:kind:)``,
/// ``Replica/restoreEntity(_:kind:)``).
enum Deletion {
    /// What `--json` prints: `{"deleted": id, "kind": …, "space": …}` or `"restored"`.
    struct Done: Encodable {
        var deleted: EntityID?
        var restored: EntityID?
        var kind: EntityKind
        var space: SpaceID
    }

    /// The `sessions`, `insights`… subcommand group of a kind, for the hint printed.
    static func group(_ kind: EntityKind) -> String {
        switch kind {
        case .session: "sessions"
        case .insight: "insights"
        case .action: "actions"
        default: "prompts"
        }
    }

    static func delete(_ argument: IDArgument, _ kind: EntityKind, _ global: GlobalOptions) async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let id = try await replica.resolve(argument, kind)
            let short = await replica.shortIDs([id])[id] ?? id.description
            let space = try await replica.deleteEntity(id, kind: kind)
            let hidden = kind == .session ? " (and what was captured in it)" : ""
            try global.emit(
                Done(deleted: id, kind: kind, space: space),
                "deleted \(kind.displayName.lowercased()) \(short)\(hidden); bring it back with "
                    + "`dialogue-client \(group(kind)) restore \(short)`")
        }
    }

    /// `… deleted`: what `… restore` can bring back, with short ids to type back.
    static func list(_ kind: EntityKind, _ global: GlobalOptions) async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let deleted = await replica.deletedEntities(kind: kind)
            let short = await replica.shortIDs(deleted.map(\.id))
            let rows = deleted.map { [short[$0.id] ?? $0.id.description, Terminal.line($0.label ?? "")] }
            try global.emit(
                deleted,
                deleted.isEmpty
                    ? "no deleted \(group(kind))"
                    : Output.table(["ID", kind == .session ? "TITLE" : kind == .action ? "DESCRIPTION" : "TEXT"], rows))
        }
    }

    static func restore(_ argument: IDArgument, _ kind: EntityKind, _ global: GlobalOptions) async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            let id = try await replica.resolveDeleted(argument, kind)
            let space = try await replica.restoreEntity(id, kind: kind)
            let short = await replica.shortIDs([id])[id] ?? id.description
            try global.emit(Done(restored: id, kind: kind, space: space), "restored \(kind.displayName.lowercased()) \(short)")
        }
    }
}
