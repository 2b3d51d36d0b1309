import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `insights …`: what is captured in sessions.
struct Insights: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture, edit and tag insights.", subcommands: [Capture.self, Edit.self, Tag.self])

    struct Tagged: Encodable {
        var insight: EntityID
        var hallmarks: [String]
    }

    struct Captured: Encodable {
        var insight: EntityID
        var session: EntityID
        var space: SpaceID
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
                let (kind, hallmarks, influence, evidence) = (kind, hallmarks, influence, evidence)
                let id = try await replica.edit(in: space) { editor in
                    try editor.captureInsight(
                        in: session, text: body, prompt: prompt, kind: kind, author: author, hallmarks: hallmarks, influence: influence,
                        evidenceSource: evidence)
                }
                try global.emit(Captured(insight: id, session: session, space: space), id.description)
            }
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace an insight's text; only the changed part is written, so concurrent edits merge.")
        @Argument(help: "The insight: its id or an id prefix.") var insight: IDArgument
        @Argument(help: "The new text (`-` reads stdin).") var text: String?
        @Option(help: "Read the new text from a file.", completion: .file()) var file: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let body = try TextInput.read(argument: text, file: file)
                let replica = try global.openReplica()
                let insight = try await replica.resolve(self.insight, .insight)
                let space = try await replica.requireSpace(holding: insight, kind: .insight)
                try await replica.edit(in: space) { editor in
                    try editor.replaceText(DialogueModel.Insight.Field.text, of: insight, with: body)
                }
                let text = await replica.document(space)?.text(DialogueModel.Insight.Field.text, of: insight) ?? ""
                try global.emit(["insight": insight.description, "text": text], "updated insight \(insight)")
            }
        }
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
