import ArgumentParser
import DialogueServer
import DialogueSync
import Foundation

/// `dialogue-server admin subject-access`: everything the server holds about one person
/// (issue 13; the work is ``SubjectAccess`` in the library).
extension Admin {
    struct SubjectAccessCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "subject-access",
            abstract: "Gather everything the server holds about one member (a subject access request), as Markdown or JSON.",
            discussion: """
                Searches every space the server holds: what their devices wrote (each edit, when, from which device),
                where they are named (facilitator, participant, action owner, insight author, space member), their
                member record, devices and tokens (never a token itself), and what the server cannot see (devices that
                never synced, edits not synced yet, changes written before signing by devices nobody registered).
                The JSON format is documented in docs/PRIVACY.md. A file written with --output is readable by its
                owner only (0600): the report is personal data.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case markdown, json
        }

        @Option(help: "The member's id (see `admin list`).") var member: UUID
        @Option(help: "markdown (a readable report, the default) or json (the documented format; --json does the same).")
        var format: Format = .markdown
        @Option(help: "Write the report to this file (0600) instead of printing it.") var output: String?
        @OptionGroup var common: Common

        func run() async throws {
            let report = try await Admin.withStore(common) { store in
                do { return try await SubjectAccess.gather(member: member, store: store) } catch let error as SubjectAccessError {
                    throw ValidationError(error.description)
                }
            }
            let data: Data
            if common.json || format == .json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                data = try encoder.encode(report) + Data("\n".utf8)
            } else {
                data = Data(report.markdown().utf8)
            }
            guard let output else {
                FileHandle.standardOutput.write(data)
                return
            }
            do { try PrivateFiles.write(data, to: output) } catch { throw ValidationError(error.description) }
            let counts = report.spaces.reduce(0) { $0 + $1.changesByMember }
            print(
                "wrote the subject access report of \(report.subject.name) to \(output) (\(report.spaces.count) spaces, \(counts) changes by them)"
            )
        }
    }
}
