import DialogueModel
import Foundation
import Testing

@testable import DialogueSync

/// Issue 14, item 4: the one parser of typed dates and the one formatter of instants
/// (``DateText``), in a zone given to it (never the machine's), so every form is tested
/// in GMT, in BST and in UTC.
@Suite("Dates as people type and read them")
struct DateTextTests {
    static let london = DateText(timeZone: TimeZone(identifier: "Europe/London")!)
    static let utc = DateText.utc

    /// ms since the epoch of a UTC date-time.
    static func utcInstant(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    @Test(
        "a date: ISO with or without leading zeros, day-first with slashes (as UK schools write it)",
        arguments: [
            ("2025-03-14", "2025-03-14"), ("2025-3-1", "2025-03-01"), ("14/03/2025", "2025-03-14"), ("28/03/2025", "2025-03-28"),
            ("1/3/2025", "2025-03-01"), (" 2024-02-29 ", "2024-02-29"), ("29/02/2024", "2024-02-29"),
        ])
    func dates(typed: String, date: String) throws {
        #expect(try Self.london.read(typed) == .date(date))
        #expect(try Self.london.date(typed) == date)
    }

    @Test("today, tomorrow and yesterday are the dates of the zone, not of UTC")
    func relativeDays() throws {
        // 23:30 UTC on 30 June is already 1 July in London (BST).
        let now = Date(timeIntervalSince1970: Double(Self.utcInstant(2025, 6, 30, 23, 30)) / 1000)
        #expect(try Self.london.read("today", now: now) == .date("2025-07-01"))
        #expect(try Self.london.read("Tomorrow", now: now) == .date("2025-07-02"))
        #expect(try Self.london.read("YESTERDAY", now: now) == .date("2025-06-30"))
        #expect(try Self.utc.read("today", now: now) == .date("2025-06-30"))
        #expect(Self.utc.today(now: now) == "2025-06-30" && Self.london.today(now: now) == "2025-07-01")
    }

    @Test("a local time is read in the zone: GMT in March, BST in June; UTC with .utc")
    func localTimes() throws {
        #expect(try Self.london.instant("2025-03-14 09:30") == Self.utcInstant(2025, 3, 14, 9, 30))
        #expect(try Self.london.instant("2025-06-14 09:30") == Self.utcInstant(2025, 6, 14, 8, 30))
        #expect(try Self.london.instant("2025-06-14T09:30") == Self.utcInstant(2025, 6, 14, 8, 30))
        #expect(try Self.london.instant("14/06/2025 09:30") == Self.utcInstant(2025, 6, 14, 8, 30))
        #expect(try Self.london.instant("2025-06-14 9:30:15") == Self.utcInstant(2025, 6, 14, 8, 30) + 15_000)
        #expect(try Self.utc.instant("2025-06-14 09:30") == Self.utcInstant(2025, 6, 14, 9, 30))
    }

    @Test(
        "an explicit zone wins over the reader's",
        arguments: [
            "2025-06-14T09:30:00Z", "2025-06-14T09:30Z", "2025-06-14 09:30 UTC",
            "2025-06-14 10:30 +01:00", "2025-06-14T10:30+0100", "2025-06-14 04:30 -05:00",
        ])
    func explicitZones(typed: String) throws {
        #expect(try Self.london.instant(typed) == Self.utcInstant(2025, 6, 14, 9, 30))
        #expect(try Self.utc.instant(typed) == Self.utcInstant(2025, 6, 14, 9, 30))
    }

    @Test("a date starts at local midnight and, as the end of a range, covers the whole local day")
    func dayBounds() throws {
        #expect(try Self.london.instant("2025-06-14") == Self.utcInstant(2025, 6, 13, 23))
        #expect(try Self.london.endInstant("14/06/2025") == Self.utcInstant(2025, 6, 14, 23))
        #expect(try Self.utc.instant("2025-06-14") == Self.utcInstant(2025, 6, 14))
        #expect(try Self.utc.endInstant("2025-06-14") == Self.utcInstant(2025, 6, 15))
        // The day the clocks go forward has 23 hours.
        #expect(try Self.london.endInstant("2025-03-30") - Self.london.instant("2025-03-30") == 23 * 3_600_000)
        #expect(try Self.london.endInstant("2025-06-14 09:30") == Self.utcInstant(2025, 6, 14, 8, 30))
    }

    @Test(
        "refused, with a message giving accepted examples",
        arguments: [
            ("31/02/2025", "no 2025-02-31"), ("03/14/2025", "day comes first"), ("2025-13-01", "no 2025-13-01"),
            ("2025-02-29", "no 2025-02-29"),
            ("2025-03-14 25:00", "24-hour"), ("2025-03-14 09:60", "24-hour"), ("next week", "not a date"), ("", "not a date"),
            ("14-03-2025", "not a date"), ("2025/03/14", "day/month/year"), ("25-03-14", "not a date"),
            ("2025-03-14 09:30 BST", "time zone"),
            ("2025-03-14x", "not a date"), ("2025-03-14 09:30 +25:00", "offset"),
        ])
    func refused(typed: String, reason: String) {
        #expect {
            try Self.london.read(typed)
        } throws: { error in
            let message = "\(error)"
            return message.contains(reason) && message.contains("14/03/2025") && message.contains("2025-03-14 09:30")
        }
    }

    @Test("a local time the clocks skip does not exist; a due date takes no time")
    func nonexistentTimes() {
        #expect(throws: DateInputError.self) { try Self.london.read("2025-03-30 01:30") }
        #expect((try? Self.utc.read("2025-03-30 01:30")) == .instant(Self.utcInstant(2025, 3, 30, 1, 30)))
        #expect(throws: DateInputError.self) { try Self.london.date("2025-03-14 09:30") }
    }

    @Test("display: local time with its offset (GMT, BST), or UTC; read back to the same instant")
    func display() throws {
        let winter = Self.utcInstant(2025, 3, 14, 9, 30)
        let summer = Self.utcInstant(2025, 6, 14, 8, 30)
        #expect(Self.london.time(winter) == "2025-03-14 09:30 +00:00")
        #expect(Self.london.time(summer) == "2025-06-14 09:30 +01:00")
        #expect(Self.utc.time(summer) == "2025-06-14 08:30 UTC")
        #expect(Self.london.time(summer + 15_000, seconds: true) == "2025-06-14 09:30:15 +01:00")
        #expect(DateText(timeZone: TimeZone(identifier: "America/New_York")!).time(summer) == "2025-06-14 04:30 -04:00")
        #expect(Self.london.time(nil) == "-")
        for instant in [winter, summer] {
            #expect(try Self.london.instant(Self.london.time(instant)) == instant)
            #expect(try Self.london.instant(Self.utc.time(instant)) == instant)
        }
        #expect(Self.london.date(of: Self.utcInstant(2025, 6, 14, 23, 30)) == "2025-06-15")
    }
}
