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

/// Parses the dates and times the command line accepts.
enum Dates {
    /// `YYYY-MM-DD` (midnight UTC) or an ISO 8601 date-time, as ms since the epoch.
    static func instant(_ text: String, option: String) throws -> Int64 {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        if let date = full.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = TimeZone(identifier: "UTC")
        if text.count == 10, let date = day.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        throw ClientError.usage("\(option) must be a date (2025-03-14) or a date-time (2025-03-14T09:30:00Z); got '\(text)'")
    }

    /// The end of an inclusive range: a plain date covers that whole day.
    static func endInstant(_ text: String, option: String) throws -> Int64 {
        let start = try instant(text, option: option)
        return text.count == 10 ? start + 86_400_000 : start
    }

    /// Today as `YYYY-MM-DD` in the local time zone.
    static var today: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date())
    }
}

extension Dates {
    /// Whether the text is `YYYY-MM-DD` with a real month and day.
    static func isDate(_ text: String) -> Bool {
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = TimeZone(identifier: "UTC")
        guard text.count == 10, let date = day.date(from: text) else { return false }
        return day.string(from: date) == text
    }
}
