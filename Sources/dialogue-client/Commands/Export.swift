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
            CSV columns: \(Render.csvHeader).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown, json, csv
    }

    @Option(help: "The session to export.") var session: EntityID?
    @Option(help: "The space to export (every session in it): its UUID or its name.") var space: SpaceArgument?
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
        /// The space's name in the verified directory (left out when not listed).
        var spaceName: String?
        var sessions: [ExportedSession]
        var prompts: [PromptEntry]
    }

    /// A session record as exported: its insights' authors named from certificates.
    struct ExportedSession: Encodable {
        var session: SessionSummary
        var participants: [EntityID]
        var agenda: [AgendaEntry]
        var summary: String
        var insights: [ExportedInsight]
        var actions: [ActionRecord]

        init(_ record: SessionRecord, authors: [EntityID: EntityAuthorship]) {
            session = record.session
            participants = record.participants
            agenda = record.agenda
            summary = record.summary
            insights = record.insights.map { ExportedInsight($0, authorship: authors[$0.id]) }
            actions = record.actions
        }
    }

    /// An insight as exported: ``InsightRecord``'s fields, its `author` the certified member
    /// of the device that created it (``DeviceAuthor``), not a claimed member id.
    struct ExportedInsight: Encodable {
        var id: EntityID
        var space: SpaceID
        var session: EntityID?
        var prompt: EntityID?
        var author: DeviceAuthor?
        /// Every claimant when the authorship is disputed (then `author` is absent).
        var disputedAuthors: [DeviceAuthor]?
        var kind: InsightKind?
        var evidenceSource: String?
        var influence: Influence?
        var hallmarks: [String]
        var text: String
        var invalidFields: [String]?

        init(_ insight: InsightRecord, authorship: EntityAuthorship?) {
            (id, space, session, prompt, author) = (insight.id, insight.space, insight.session, insight.prompt, authorship?.author)
            if case .disputed(let claimants) = authorship { disputedAuthors = claimants }
            (kind, evidenceSource, influence, hallmarks) = (insight.kind, insight.evidenceSource, insight.influence, insight.hallmarks)
            (text, invalidFields) = (insight.text, insight.invalidFields)
        }
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
                let authors = try await Render.insightAuthors(all, replica: replica)
                spaceExport = SpaceExport(
                    space: space, spaceName: try await replica.spaceNames().space(space).name,
                    sessions: all.map { ExportedSession($0, authors: authors) }, prompts: prompts)
            default:
                throw ClientError.usage("give --session ID or --space ID")
            }
            let content: String
            let authors = try await Render.insightAuthors(records, replica: replica)
            switch format {
            case .json:
                content = try spaceExport.map { try Output.json($0) } ?? Output.json(ExportedSession(records[0], authors: authors))
            case .csv:
                let names = try replica.authorNames()
                var rows = [Render.csvHeader]
                for record in records {
                    var owners: [EntityID: (name: String, school: String)] = [:]
                    for owner in record.actions.compactMap(\.owner) {
                        owners[owner] = await replica.person(owner, in: record.session.space, names: names)
                    }
                    rows += Render.csvRows(record, authors: authors, owners: { owners[$0] ?? ($0.description, "") })
                }
                content = rows.joined(separator: "\n")
            case .markdown:
                var parts: [String] = []
                // The content inside --json stays exact; printed or written Markdown is escaped.
                let exact = global.json && output == nil
                for record in records { parts.append(try await Render.markdown(record, replica: replica, exact: exact)) }
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
