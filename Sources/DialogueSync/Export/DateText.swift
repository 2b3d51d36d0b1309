import DialogueModel
import Foundation

/// Dates and times as people type and read them, in one time zone: the one parser of typed
/// dates and the one formatter of instants for display, shared by the command line and apps.
///
/// Stored values do not change: a timestamp field holds a UTC instant, a date field
/// (`Action.dueDate`) a calendar date `YYYY-MM-DD`. Only reading and showing use the zone.
///
/// Accepted input (``read(_:now:)``):
/// - a date: `2025-03-14`, `2025-3-1`, `14/03/2025` (day first, as UK schools write it;
///   month-first `03/14/2025` is refused), `today`, `tomorrow`, `yesterday`;
/// - a date and a time, read in ``timeZone``: `2025-03-14 09:30`, `2025-03-14T09:30`,
///   `14/03/2025 09:30`, with seconds if wanted (`09:30:15`);
/// - the same with an explicit zone, which wins: `2025-03-14T09:30:00Z`,
///   `2025-03-14 09:30 UTC`, `2025-03-14 10:30 +01:00` (what ``time(_:seconds:)`` prints).
///
/// ```swift
/// let dates = DateText(timeZone: TimeZone(identifier: "Europe/London")!)
/// let start = try dates.instant("14/06/2025 09:30")  // 08:30 UTC (BST)
/// dates.time(start)                                   // "2025-06-14 09:30 +01:00"
/// ```
public struct DateText: Sendable, Hashable {
    /// The zone dates and times are read and shown in.
    public var timeZone: TimeZone

    /// Dates read and shown in `timeZone`.
    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    /// The user's zone (`TimeZone.current`, which honours `TZ`).
    public static var local: DateText { DateText(timeZone: .current) }

    /// UTC: what `--utc` asks for.
    public static let utc = DateText(timeZone: TimeZone(secondsFromGMT: 0)!)

    /// Whether this is UTC rather than a local zone (times then end in "UTC").
    public var isUTC: Bool { timeZone.identifier == "GMT" || timeZone.identifier == "UTC" || timeZone.identifier == "Etc/UTC" }

    /// Examples of what ``read(_:now:)`` accepts, for messages.
    public static let examples = "2025-03-14, 14/03/2025 (day first), today, tomorrow, 2025-03-14 09:30 (local time) or 2025-03-14T09:30Z"

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    // MARK: Display

    /// An instant (ms since the epoch) to the minute in this zone, with its offset:
    /// "2025-06-14 09:30 +01:00", or "2025-06-14 08:30 UTC" in ``utc``; "-" when `nil`.
    /// The offset (never an abbreviation, which platforms spell differently) makes the text
    /// exact, and ``read(_:now:)`` reads it back.
    /// With `seconds` (a record of edits, where order within a minute matters), to the second.
    public func time(_ milliseconds: Int64?, seconds: Bool = false) -> String {
        guard let milliseconds else { return "-" }
        let date = Date(millisecondsSinceEpoch: milliseconds)
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = Self.day(parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        let clock =
            Self.twoDigits(parts.hour ?? 0) + ":" + Self.twoDigits(parts.minute ?? 0)
            + (seconds ? ":" + Self.twoDigits(parts.second ?? 0) : "")
        return "\(day) \(clock) \(isUTC ? "UTC" : Self.offset(timeZone.secondsFromGMT(for: date)))"
    }

    /// The calendar date (`YYYY-MM-DD`) of an instant in this zone.
    public func date(of milliseconds: Int64) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: Date(millisecondsSinceEpoch: milliseconds))
        return Self.day(parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// Today's date (`YYYY-MM-DD`) in this zone.
    public func today(now: Date = Date()) -> String { date(of: now.millisecondsSinceEpoch) }

    // MARK: Input

    /// What a person typed: a calendar date, or an instant.
    public enum Value: Sendable, Hashable {
        /// A calendar date, `YYYY-MM-DD`.
        case date(String)
        /// An instant, ms since the epoch.
        case instant(Int64)
    }

    /// Reads a typed date or date-time (see the type's documentation for the forms).
    /// - Parameters:
    ///   - text: what the person typed.
    ///   - now: the moment `today` and `tomorrow` count from.
    /// - Throws: ``DateInputError`` for anything else, or a date or time that does not exist
    ///   (`31/02/2025`, `03/14/2025`, a local time skipped when the clocks go forward).
    public func read(_ text: String, now: Date = Date()) throws(DateInputError) -> Value {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch trimmed.lowercased() {
        case "today": return .date(today(now: now))
        case "tomorrow": return .date(try shifted(now, days: 1, text))
        case "yesterday": return .date(try shifted(now, days: -1, text))
        default: break
        }
        // The date, then (after a space or a `T`) a time and perhaps a zone.
        let datePart = trimmed.prefix { $0 != " " && $0 != "T" && $0 != "t" }
        let rest = trimmed[datePart.endIndex...].drop { $0 == " " || $0 == "T" || $0 == "t" }
        let (year, month, day) = try Self.readDate(String(datePart), whole: text)
        let canonical = Self.day(year, month, day)
        guard ValueRule.isCalendarDate(canonical) else {
            throw DateInputError(text, reason: "there is no \(canonical)")
        }
        if rest.isEmpty {
            guard datePart.count == trimmed.count else { throw DateInputError(text, reason: "expected a time after the date") }
            return .date(canonical)
        }
        let (hour, minute, second, offset) = try Self.readTime(String(rest), whole: text)
        var parts = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        var calendar = calendar
        if let offset { calendar.timeZone = TimeZone(secondsFromGMT: offset) ?? timeZone }
        parts.timeZone = calendar.timeZone
        let back = calendar.date(from: parts).map { calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: $0) }
        guard let date = calendar.date(from: parts), let back,
            [back.year, back.month, back.day, back.hour, back.minute, back.second] == [year, month, day, hour, minute, second]
        else {
            // Calendar moves a time the clocks skip (spring forward) to one that exists: refuse it instead.
            throw DateInputError(
                text,
                reason:
                    "\(canonical) \(Self.twoDigits(hour)):\(Self.twoDigits(minute)) does not exist in \(timeZone.identifier) (the clocks go forward)"
            )
        }
        return .instant(date.millisecondsSinceEpoch)
    }

    /// The instant a typed value starts: a date is its first moment in this zone.
    public func instant(_ text: String, now: Date = Date()) throws(DateInputError) -> Int64 {
        switch try read(text, now: now) {
        case .instant(let milliseconds): return milliseconds
        case .date(let day): return try startOfDay(day, text)
        }
    }

    /// The end of an inclusive range: a date covers the whole day (its end is the next
    /// day's first moment in this zone); an instant ends where it is.
    public func endInstant(_ text: String, now: Date = Date()) throws(DateInputError) -> Int64 {
        switch try read(text, now: now) {
        case .instant(let milliseconds): return milliseconds
        case .date(let day):
            let start = Date(millisecondsSinceEpoch: try startOfDay(day, text))
            guard let next = calendar.date(byAdding: .day, value: 1, to: start) else { throw DateInputError(text, reason: "out of range") }
            return next.millisecondsSinceEpoch
        }
    }

    /// A typed calendar date as `YYYY-MM-DD` (for a due date); a time is refused.
    public func date(_ text: String, now: Date = Date()) throws(DateInputError) -> String {
        switch try read(text, now: now) {
        case .date(let day): return day
        case .instant: throw DateInputError(text, reason: "give a day without a time")
        }
    }

    private func startOfDay(_ day: String, _ text: String) throws(DateInputError) -> Int64 {
        let numbers = day.split(separator: "-").compactMap { Int($0) }
        let parts = DateComponents(year: numbers[0], month: numbers[1], day: numbers[2])
        guard let date = calendar.date(from: parts) else { throw DateInputError(text, reason: "out of range") }
        return calendar.startOfDay(for: date).millisecondsSinceEpoch
    }

    private func shifted(_ now: Date, days: Int, _ text: String) throws(DateInputError) -> String {
        guard let date = calendar.date(byAdding: .day, value: days, to: now) else { throw DateInputError(text, reason: "out of range") }
        return self.date(of: date.millisecondsSinceEpoch)
    }

    /// Year, month and day of `2025-03-14`, `2025-3-1` or `14/03/2025` (not yet checked as a real date).
    private static func readDate(_ text: String, whole: String) throws(DateInputError) -> (Int, Int, Int) {
        if text.contains("-") {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
                let year = digits(parts[0]), let month = digits(parts[1]), let day = digits(parts[2])
            else { throw DateInputError(whole, reason: "not a date") }
            return (year, month, day)
        }
        if text.contains("/") {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3, (1...2).contains(parts[0].count), (1...2).contains(parts[1].count), parts[2].count == 4,
                let day = digits(parts[0]), let month = digits(parts[1]), let year = digits(parts[2])
            else { throw DateInputError(whole, reason: "not a date (with slashes: day/month/year, as 14/03/2025)") }
            if month > 12 {
                throw DateInputError(whole, reason: "there is no month \(month): with slashes the day comes first (14/03/2025)")
            }
            return (year, month, day)
        }
        throw DateInputError(whole, reason: "not a date")
    }

    /// Hour, minute, second and the zone's offset in seconds (`nil`: this zone) of
    /// `09:30`, `09:30:15`, `09:30Z`, `09:30 UTC`, `10:30+01:00`, `10:30 +0100`.
    private static func readTime(_ text: String, whole: String) throws(DateInputError) -> (Int, Int, Int, Int?) {
        var clock = Substring(text)
        var offset: Int?
        if let zoneStart = clock.firstIndex(where: {
            $0 == "Z" || $0 == "z" || $0 == "+" || $0 == "-" || $0 == " " || $0 == "U" || $0 == "u"
        }) {
            let zone = clock[zoneStart...].trimmingCharacters(in: .whitespaces)
            clock = clock[..<zoneStart]
            offset = try readOffset(zone, whole: whole)
        }
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), (1...2).contains(parts[0].count), parts.dropFirst().allSatisfy({ $0.count == 2 }),
            let hour = digits(parts[0]), let minute = digits(parts[1]), hour < 24, minute < 60
        else { throw DateInputError(whole, reason: "not a time (24-hour clock, as 09:30 or 14:05)") }
        let second = parts.count == 3 ? digits(parts[2]) ?? 60 : 0
        guard second < 60 else { throw DateInputError(whole, reason: "not a time (24-hour clock, as 09:30 or 14:05)") }
        return (hour, minute, second, offset)
    }

    private static func readOffset(_ zone: String, whole: String) throws(DateInputError) -> Int {
        if ["z", "utc", "gmt"].contains(zone.lowercased()) { return 0 }
        let sign = zone.first == "-" ? -1 : 1
        let body = zone.dropFirst().filter { $0 != ":" }
        guard zone.first == "+" || zone.first == "-", body.count == 2 || body.count == 4, let value = digits(Substring(body)) else {
            throw DateInputError(whole, reason: "not a time zone ('\(zone)'; give Z, UTC or an offset such as +01:00)")
        }
        let (hours, minutes) = body.count == 2 ? (value, 0) : (value / 100, value % 100)
        guard hours <= 14, minutes < 60 else { throw DateInputError(whole, reason: "not a time zone offset ('\(zone)')") }
        return sign * (hours * 3600 + minutes * 60)
    }

    private static func digits(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func day(_ year: Int, _ month: Int, _ day: Int) -> String {
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + twoDigits(month) + "-" + twoDigits(day)
    }

    private static func offset(_ seconds: Int) -> String {
        let minutes = abs(seconds) / 60
        return (seconds < 0 ? "-" : "+") + twoDigits(minutes / 60) + ":" + twoDigits(minutes % 60)
    }
}

/// A typed date or time ``DateText`` cannot read; its description says why and gives
/// examples of what is accepted.
public struct DateInputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was typed.
    public var text: String
    /// Why it was refused.
    public var reason: String

    /// The error for `text`, refused for `reason`.
    public init(_ text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String {
        "'\(text)' is \(reason.hasPrefix("not ") ? "" : "refused: ")\(reason); write a date as \(DateText.examples)"
    }
}
