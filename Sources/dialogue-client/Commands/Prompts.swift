import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `prompts …`: the library of reflective prompts and session agendas.
struct Prompts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The prompt library (starter prompts and your own) and session agendas.",
        subcommands: [List.self, Add.self, Import.self, AddToAgenda.self, Reorder.self, Delete.self, Restore.self, Deleted.self])

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a prompt from a space's library (kept recoverable: see `prompts restore`).")
        @Argument(help: "The prompt: its id, an id prefix or its text.") var prompt: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.delete(prompt, .prompt, global) }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring back a deleted prompt, as it was.")
        @Argument(help: "The deleted prompt: its id, an id prefix or its text.") var prompt: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.restore(prompt, .prompt, global) }
    }

    struct Listed: Encodable {
        var id: EntityID
        var text: String
        var theme: String?
        var source: String?
        /// The space holding it; `nil` for a starter prompt not yet added to a space.
        var space: SpaceID?
        var starter: Bool
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the starter library and the prompts held in your spaces (works without a replica).")
        @Option(help: "Only prompts held in this space (plus the starter library): its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                var listed: [Listed] = []
                var seen: Set<EntityID> = []
                var column: SpaceColumn?
                var opened: Replica?
                if FileManager.default.fileExists(atPath: global.replicaPath) {
                    let replica = try global.openReplica()
                    opened = replica
                    let spaces = try await replica.spacesOrAll(space)
                    column = SpaceColumn(try await replica.spaceNames(), listing: spaces)
                    for space in spaces {
                        for prompt in try replica.prompts(in: space) {
                            seen.insert(prompt.id)
                            listed.append(
                                Listed(
                                    id: prompt.id, text: prompt.text ?? "", theme: prompt.theme, source: prompt.source, space: space,
                                    starter: PromptLibrary.starterPrompt(prompt.id) != nil))
                        }
                    }
                } else if space != nil {
                    throw ClientError.notFound("no replica at \(global.replicaPath); run `dialogue-client init` first")
                }
                for starter in PromptLibrary.starter where !seen.contains(starter.id) {
                    listed.append(
                        Listed(id: starter.id, text: starter.text, theme: starter.theme, source: starter.source, space: nil, starter: true))
                }
                // Prompts of several spaces say which space holds each (the starter library: none).
                func inSpace(_ prompt: Listed) -> String {
                    guard let column, column.shown, let space = prompt.space else { return "" }
                    return "  (in \(Terminal.line(column.cell(space))))"
                }
                // Short ids need the replica's entities to be unambiguous: without one, full ids.
                let short = await opened?.shortIDs(listed.map(\.id)) ?? [:]
                try global.emit(
                    listed.map { WithSpaceName(row: $0, spaceName: $0.space.flatMap { column?.names.space($0).name }) },
                    listed.map {
                        "\(short[$0.id] ?? $0.id.description)  [\(Terminal.line($0.theme ?? "-"))] \(Terminal.line($0.text))\(inSpace($0))"
                    }
                    .joined(separator: "\n"))
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a prompt to a space's library.")
        @Argument(help: "The question.") var text: String
        @Option(help: "Its theme.") var theme: String?
        @Option(help: "Where it comes from.") var source: String?
        @Option(help: "The space (needed when several are held): its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let space = try await replica.chooseSpace(space)
                let (text, theme, source) = (text, theme, source)
                let id = try await replica.edit(in: space) { editor in try editor.createPrompt(text, theme: theme, source: source) }
                try global.emit(["prompt": id.description, "space": space.description], id.description)
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import prompts from a text file (one per line) or a CSV file (header text,theme,source).",
            discussion: "A malformed line rejects the whole file (exit 65, naming the line); nothing is imported.")
        @Argument(help: "The file.", completion: .file()) var file: String
        @Option(help: "text or csv (default: csv for a .csv file, else text).") var format: String?
        @Option(help: "The space (needed when several are held): its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let csv: Bool
                switch format?.lowercased() {
                case nil: csv = file.lowercased().hasSuffix(".csv")
                case "csv": csv = true
                case "text", "txt": csv = false
                case let other?: throw ClientError.usage("--format must be text or csv, got '\(other)'")
                }
                guard FileManager.default.fileExists(atPath: file) else { throw ClientError.notFound("no file \(file)") }
                let data: Data
                do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
                    throw ClientError.io("cannot read \(file): \(error.localizedDescription)")
                }
                let entries = try PromptFile.parse(data, csv: csv, name: file)
                let replica = try global.openReplica()
                let space = try await replica.chooseSpace(space)
                let ids = try await replica.edit(in: space) { editor in
                    try entries.map { try editor.createPrompt($0.text, theme: $0.theme, source: $0.source) }
                }
                struct Imported: Encodable {
                    var imported: Int
                    var space: String
                }
                try global.emit(
                    Imported(imported: ids.count, space: space.description),
                    "imported \(ids.count) prompt\(ids.count == 1 ? "" : "s") into space \(space)")
            }
        }
    }

    struct Deleted: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the deleted prompts that `restore` can bring back.")
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.list(.prompt, global) }
    }

    struct AddToAgenda: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a prompt on a session's agenda (a starter prompt is added to the space first).")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @Argument(help: "The prompt (see `prompts list`): its id, an id prefix or its text.") var prompt: IDArgument
        @Option(help: "The agenda position, from 1 (default: the end).") var position: Int?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            if let position, position < 1 { throw ValidationError("--position starts at 1") }
            let index = position.map { $0 - 1 }
            try await Sessions.change(session, global, also: prompt, kind: .prompt) { editor, id, prompt in
                let prompt = prompt!
                let starter = PromptLibrary.starterPrompt(prompt)
                // A starter prompt goes on the agenda of this session's space (everyone holding the
                // session must see its agenda), beside the copy in your personal space.
                if editor.document.kind(of: prompt) != EntityKind.prompt.rawValue || editor.document.isDeleted(prompt) {
                    guard let starter else { throw ReplicaError.entityNotFound(prompt) }
                    try editor.addStarterPrompt(starter)
                }
                try editor.addToAgenda(prompt, of: id, at: index)
            }
        }
    }

    struct Reorder: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move an agenda item (positions from 1, as `sessions show` numbers them).")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @Option(help: "The position to move.") var from: Int
        @Option(help: "Where it goes.") var to: Int
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            guard from >= 1, to >= 1 else { throw ValidationError("positions start at 1") }
            let (from, to) = (from - 1, to - 1)
            try await Sessions.change(session, global) { editor, id, _ in try editor.moveOnAgenda(from: from, to: to, of: id) }
        }
    }
}
