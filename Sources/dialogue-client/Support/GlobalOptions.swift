import ArgumentParser
import DialogueSync
import Foundation

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The replica file (env DIALOGUE_REPLICA; default $XDG_DATA_HOME/dialogue/replica.sqlite).", valueName: "path"),
        completion: .file())
    var replica: String?

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    @Flag(help: "Show and read times in UTC instead of the local time zone (TZ).")
    var utc = false

    /// How this command reads and shows dates: in UTC with `--utc`, else in the local zone.
    var dates: DateText { utc ? .utc : .local }

    @Flag(help: "Show log lines (requests, retries, what was merged) on stderr; by default only those saying something failed.")
    var verbose = false

    /// Sets the log level before the command makes any logger (``ClientLogging``).
    func validate() throws { ClientLogging.verbose = verbose }

    /// Where the replica lives: `--replica`, then DIALOGUE_REPLICA, then the user's data directory.
    var replicaPath: String {
        if let replica, !replica.isEmpty { return replica }
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["DIALOGUE_REPLICA"], !path.isEmpty { return path }
        let dataHome =
            environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return dataHome + "/dialogue/replica.sqlite"
    }

    /// The login file beside the replica (mode 0600).
    var configPath: String { replicaPath + ".login.json" }

    /// Opens an existing replica (66 when there is none).
    func openReplica() throws -> Replica {
        let path = replicaPath
        guard FileManager.default.fileExists(atPath: path) else {
            throw ClientError.notFound("no replica at \(path); create one with `dialogue-client init` (or pass --replica)")
        }
        return try Replica(path: path)
    }

    /// Prints a JSON document with `--json` (exact), else the text with control characters escaped.
    func emit(_ value: some Encodable, _ text: @autoclosure () -> String) throws {
        if json {
            print(try Output.json(value))
        } else {
            let text = text()
            if !text.isEmpty { print(Terminal.escape(text, multiline: true)) }
        }
    }
}

enum Output {
    /// `value` as stable JSON (``ExportText/json(_:)``: pretty-printed, keys sorted).
    static func json(_ value: some Encodable) throws -> String { try ExportText.json(value) }

    /// A timestamp (ms since the epoch) as ISO 8601 in UTC, seconds precision.
    static func time(_ milliseconds: Int64?) -> String { ExportText.time(milliseconds) }

    /// The lines a sync or `status` adds when changes stay on this device (docs/TRUST.md,
    /// "Migration"); empty when none do. Each starts with a newline.
    static func heldBack(unverifiable: Int, waiting: Int) -> String {
        func changes(_ count: Int) -> String { count == 1 ? "1 change" : "\(count) changes" }
        var text = ""
        if unverifiable > 0 {
            text +=
                "\n\(changes(unverifiable)) of other devices from before signing cannot be verified and stay on this device"
                + " (their authors' upgraded devices send them signed)"
        }
        if waiting > 0 {
            text += "\n\(changes(waiting)) that depend on them wait on this device until the server holds them"
        }
        return text
    }

    /// Columns padded to their widest cell; each cell on one line (control characters escaped).
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = ([header] + rows).map { $0.map(Terminal.line) }
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Typed dates, read by the library's one parser (``DateText``) in the command's zone,
/// its refusals as usage errors naming the option.
enum Dates {
    /// The instant a typed date or date-time starts (a date: its first moment).
    static func instant(_ text: String, option: String, _ dates: DateText) throws -> Int64 {
        do { return try dates.instant(text) } catch { throw ClientError.usage("\(option): \(error)") }
    }

    /// The end of an inclusive range: a plain date covers that whole day.
    static func endInstant(_ text: String, option: String, _ dates: DateText) throws -> Int64 {
        do { return try dates.endInstant(text) } catch { throw ClientError.usage("\(option): \(error)") }
    }

    /// A typed calendar date as `YYYY-MM-DD`.
    static func date(_ text: String, option: String, _ dates: DateText) throws -> String {
        do { return try dates.date(text) } catch { throw ClientError.usage("\(option): \(error)") }
    }
}
