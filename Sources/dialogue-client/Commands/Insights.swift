import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `insights …`: what is captured in sessions.
struct Insights: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture, list, edit, tag and delete insights.",
        subcommands: [Capture.self, List.self, Edit.self, Tag.self, Delete.self, Restore.self, Deleted.self])

    struct Tagged: Encodable {
        var insight: EntityID
        var hallmarks: [String]
    }

    struct Captured: Encodable {
        var insight: EntityID
        var session: EntityID
        var space: SpaceID
        /// Said when the session is closed (the insight is captured all the same); absent otherwise.
        var warning: String?
    }

    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Capture an insight in a session (text, --file, or `-` for stdin).")
        @Argument(help: "The session: its id, an id prefix or its title.") var session: IDArgument
        @Argument(help: "The text (`-` reads stdin).") var text: String?
        @Option(help: "Read the text from a file.", completion: .file()) var file: String?
        @Option(help: "The prompt it answers: its id, an id prefix or its text.") var prompt: IDArgument?
        @Option(help: "reflection, effective-practice, evidence-from-monitoring, feedback or concern.") var kind: InsightKind?
        @Option(help: "The author's member id: must be the member this device is certified for at login (the default).")
        var author: IDArgument?
        @Option(name: .customLong("hallmark"), help: "A hallmark tag; repeat for several.") var hallmarks: [Hallmark] = []
        @Option(help: "direct, indirect or reciprocal.") var influence: Influence?
        @Option(help: "Where the evidence comes from.") var evidence: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let body = try TextInput.read(argument: text, file: file)
                let replica = try global.openReplica()
                let session = try await replica.resolve(self.session, .session)
                let prompt = try await replica.resolve(self.prompt, .prompt)
                // A full id goes to the library as typed: it refuses any author but the certified member (65).
                let typedID = self.author.flatMap { EntityID($0.text) }
                let author = typedID != nil ? typedID : try await replica.resolve(self.author, .member)
                let space = try await replica.requireSpace(holding: session, kind: .session)
                // A closed session's record is meant to be complete: capture anyway, but say so.
                // With --json the warning is a field of the one document printed; else a line on stderr.
                var warning: String?
                if let status = try replica.session(session)?.session.status, status == .closed {
                    let short = await replica.shortIDs([session])[session] ?? session.description
                    warning =
                        "session \(short) is closed; the insight is captured, reopen it with `dialogue-client sessions edit \(short) --status held` if more is to come"
                }
                let (kind, hallmarks, influence, evidence) = (kind, hallmarks, influence, evidence)
                let id = try await replica.edit(in: space) { editor in
                    try editor.captureInsight(
                        in: session, text: body, prompt: prompt, kind: kind, author: author, hallmarks: hallmarks, influence: influence,
                        evidenceSource: evidence)
                }
                if let warning, !global.json { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                try global.emit(Captured(insight: id, session: session, space: space, warning: warning), id.description)
            }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Replace, add to (--append) or edit (--edit) an insight's text; only the changed part is written, so concurrent edits merge."
        )
        @Argument(help: "The insight: its id or an id prefix.") var insight: IDArgument
        @Argument(help: "The new text (`-` reads stdin).") var text: String?
        @Option(help: "Read the new text from a file.", completion: .file()) var file: String?
        @Option(help: "Add this to the end of the text, on a line of its own (`-` reads stdin).") var append: String?
        @Flag(help: "Edit the text in your editor ($VISUAL, $EDITOR or vi; needs a terminal).") var edit = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                if text == nil, file == nil, append == nil, !edit {
                    throw ClientError.usage("give the new text, --file PATH, `-` for stdin, --append TEXT or --edit")
                }
                let replica = try global.openReplica()
                let insight = try await replica.resolve(self.insight, .insight)
                let space = try await replica.requireSpace(holding: insight, kind: .insight)
                let change = try await TextChange.read(
                    argument: text, file: file, append: append, edit: edit, name: "insight.md",
                    current: { await replica.document(space)?.text(DialogueModel.Insight.Field.text, of: insight) ?? "" })
                try await replica.edit(in: space) { editor in
                    switch change {
                    case .replace(let body): try editor.replaceText(DialogueModel.Insight.Field.text, of: insight, with: body)
                    case .append(let body): try editor.appendToInsight(insight, body)
                    }
                }
                let text = await replica.document(space)?.text(DialogueModel.Insight.Field.text, of: insight) ?? ""
                try global.emit(["insight": insight.description, "text": text], "updated insight \(insight)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List insights, by session date; --session, --author and --hallmark narrow the list (all combine).")
        @Option(help: "Only insights captured in this session: its id, an id prefix or its title.") var session: IDArgument?
        @Option(help: "Only insights this member wrote: their id, an id prefix or their name.") var author: IDArgument?
        @Option(help: "Only insights tagged with this hallmark.") var hallmark: Hallmark?
        @Option(help: "Only this space (default: every space held): its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                var chosen: SpaceID?
                if let space { chosen = try await replica.chooseSpace(space) }
                let session = try await replica.resolve(self.session, .session)
                let author = try await replica.resolve(self.author, .member)
                let insights = try replica.insights(in: chosen, session: session, author: author, hallmark: hallmark)
                let column = SpaceColumn(try await replica.spaceNames(), listing: chosen.map { [$0] })
                let short = await replica.shortIDs(insights.map(\.id) + insights.compactMap(\.session))
                typealias F = DialogueModel.Insight.Field
                var rows: [[String]] = []
                for insight in insights {
                    rows.append(
                        column.row(
                            [
                                short[insight.id] ?? insight.id.description,
                                SessionMinutes.shown(
                                    insight.session.map { short[$0] ?? $0.description } ?? "-", insight.isInvalid(F.session)),
                                SessionMinutes.shown(
                                    await replica.displayName(of: insight.author, in: insight.space), insight.isInvalid(F.author)),
                                SessionMinutes.shown(insight.hallmarks.joined(separator: ","), insight.isInvalid(F.hallmarks)),
                                Terminal.line(insight.text),
                            ], space: insight.space))
                }
                try global.emit(
                    insights.map { WithSpaceName(row: $0, spaceName: column.names.space($0.space).name) },
                    insights.isEmpty
                        ? "no insights" : Output.table(column.header(["ID", "SESSION", "AUTHOR", "HALLMARKS", "TEXT"]), rows))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an insight (kept recoverable: see `insights restore`).")
        @Argument(help: "The insight: its id or an id prefix.") var insight: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.delete(insight, .insight, global) }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring back a deleted insight, as it was.")
        @Argument(help: "The deleted insight: its id or an id prefix.") var insight: IDArgument
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.restore(insight, .insight, global) }
    }

    struct Deleted: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the deleted insights that `restore` can bring back.")
        @OptionGroup var global: GlobalOptions

        func run() async throws { try await Deletion.list(.insight, global) }
    }

    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tag an insight with Dean's hallmarks (or --remove them).")
        @Argument(help: "The insight: its id or an id prefix.") var insight: IDArgument
        @Argument(help: "Hallmarks: \(Hallmark.allCases.map(\.rawValue).joined(separator: ", ")).") var hallmarks: [Hallmark]
        @Flag(help: "Remove these tags instead.") var remove = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let insight = try await replica.resolve(self.insight, .insight)
                let space = try await replica.requireSpace(holding: insight, kind: .insight)
                let (hallmarks, remove) = (hallmarks, remove)
                try await replica.edit(in: space) { editor in
                    for hallmark in hallmarks {
                        if remove { try editor.untag(insight, hallmark: hallmark) } else { try editor.tag(insight, with: hallmark) }
                    }
                }
                let tags =
                    await replica.document(space).map { DialogueModel.Insight(insight, in: $0)?.hallmarks.map(\.rawValue) ?? [] } ?? []
                try global.emit(Tagged(insight: insight, hallmarks: tags), "hallmarks: \(tags.map(Terminal.line).joined(separator: ", "))")
            }
        }
    }
}
