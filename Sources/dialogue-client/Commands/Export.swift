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
            An insight's author is the member certified for the device that created it (JSON: \
            "author": {"device", "certified", "id", "name", "school", "schoolName"}; a device this replica \
            holds no certificate of: {"device", "certified": false}, shown as "an unverified device 3f2a9c01…").
            CSV columns: \(SessionCSV.header).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown, json, csv
    }

    @Option(help: "The session to export: its id, an id prefix or its title.") var session: IDArgument?
    @Option(help: "The space to export (every session in it): its UUID or its name.") var space: SpaceArgument?
    @Option(help: "markdown, json or csv (default: markdown; json with --json).") var format: Format?
    @Option(name: .shortAndLong, help: "Write to this file instead of stdout.", completion: .file()) var output: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReporting(json: global.json) {
            let format = format ?? (global.json ? .json : .markdown)
            let replica = try global.openReplica()
            let records: [SessionRecord]
            var spaceExport: SpaceExport?
            switch (session, space) {
            case (let session?, nil):
                records = [try await Sessions.record(try await replica.resolve(session, .session), in: replica)]
            case (nil, let space?):
                let space = try await replica.chooseSpace(space)
                // JSON is the space's export (records and prompts); the others list its sessions.
                if format == .json { spaceExport = try await replica.spaceExport(space) }
                records = format == .json ? [] : try await replica.sessionRecords(in: space)
            default:
                throw ClientError.usage("give --session ID or --space ID")
            }
            let content: String
            switch format {
            case .json:
                if let spaceExport {
                    content = try Output.json(spaceExport)
                } else {
                    content = try Output.json(try await replica.sessionExport(records[0]))
                }
            case .csv:
                content = try await replica.csv(of: records)
            case .markdown:
                // The content inside --json stays exact; printed or written Markdown is escaped.
                content = try await replica.minutes(of: records, exact: global.json && output == nil, dates: global.dates)
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
