import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `export`: a session or a space as Markdown minutes, JSON or CSV.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a session or a whole space as Markdown (minutes), JSON (complete, stable) or CSV (insights, actions).",
        discussion: """
            JSON: a session is its record (session, participants, agenda, summary, insights, actions);
            a space is {space, sessions: [record…], prompts: […]}. Keys are sorted and nothing depends
            on when or where the export ran, so replicas that hold the same changes export the same bytes.
            CSV columns: \(Render.csvHeader).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown, json, csv
    }

    @Option(help: "The session to export.") var session: EntityID?
    @Option(help: "The space to export (every session in it).") var space: SpaceID?
    @Option(help: "markdown, json or csv (default: markdown; json with --json).") var format: Format?
    @Option(name: .shortAndLong, help: "Write to this file instead of stdout.", completion: .file()) var output: String?
    @OptionGroup var global: GlobalOptions

    struct PromptEntry: Encodable {
        var id: EntityID
        var text: String?
        var theme: String?
        var source: String?
    }

    struct SpaceExport: Encodable {
        var space: SpaceID
        var sessions: [SessionRecord]
        var prompts: [PromptEntry]
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let format = format ?? (global.json ? .json : .markdown)
            let replica = try global.openReplica()
            let records: [SessionRecord]
            var spaceExport: SpaceExport?
            switch (session, space) {
            case (let session?, nil):
                records = [try await Sessions.record(session, in: replica)]
            case (nil, let space?):
                let space = try await replica.chooseSpace(space)
                var all: [SessionRecord] = []
                for summary in try replica.sessions(in: space) {
                    if let record = try replica.session(summary.id) { all.append(record) }
                }
                records = all
                let prompts = (await replica.document(space)?.prompts ?? []).map {
                    PromptEntry(id: $0.id, text: $0.text, theme: $0.theme, source: $0.source)
                }
                spaceExport = SpaceExport(space: space, sessions: all, prompts: prompts)
            default:
                throw ClientError.usage("give --session ID or --space ID")
            }
            let content: String
            switch format {
            case .json: content = spaceExport != nil ? try Output.json(spaceExport!) : try Output.json(records[0])
            case .csv: content = ([Render.csvHeader] + records.flatMap(Render.csvRows)).joined(separator: "\n")
            case .markdown:
                var parts: [String] = []
                // The content inside --json stays exact; printed or written Markdown is escaped.
                let exact = global.json && output == nil
                for record in records { parts.append(await Render.markdown(record, replica: replica, exact: exact)) }
                content = parts.joined(separator: "\n\n---\n\n")
            }
            // Markdown and CSV are read by people (in a terminal, an editor, a spreadsheet):
            // control characters are escaped. JSON, and the content inside --json, stay exact.
            let shown = format == .json ? content : Terminal.escape(content, multiline: true)
            if let output {
                // 0600 whatever the umask: the export holds the notes.
                do { try PrivateFiles.write(Data((shown + "\n").utf8), to: output) } catch {
                    throw ClientError.io("\(error)")
                }
                if global.json { print(try Output.json(["file": output, "format": format.rawValue])) }
            } else if global.json, format != .json {
                print(try Output.json(["format": format.rawValue, "content": content]))
            } else {
                print(shown)
            }
        }
    }
}
