import Foundation

/// The text conventions every export shares: control characters made inert, machine-read
/// times (JSON, CSV) in UTC (times for people: ``DateText``), JSON that is the same bytes
/// wherever it is produced.
public enum ExportText {
    /// `text` with each control character written as an escape: `\n`, `\t`, `\r`, else
    /// `\u{1B}` with the code point in hex.
    ///
    /// What partners typed can hold control characters a terminal or viewer would obey (ESC
    /// sequences, BEL, bidi overrides that reorder what is read). Escaped: C0 controls
    /// (U+0000–U+001F), DEL (U+007F), C1 controls (U+0080–U+009F) and the bidi embeddings,
    /// overrides and isolates (U+202A–U+202E, U+2066–U+2069). With `multiline`, a newline,
    /// a tab and a carriage return before a newline stay as they are (the text is shown as
    /// lines); without it they are escaped too, so one value stays on one line (a title
    /// cannot forge a Markdown heading or the next row of a table). Backslashes are left alone.
    public static func escape(_ text: String, multiline: Bool) -> String {
        let scalars = text.unicodeScalars
        guard scalars.contains(where: { needsEscape($0) }) else { return text }
        var result = String.UnicodeScalarView()
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let next = scalars.index(after: index)
            switch scalar {
            case "\n" where multiline, "\t" where multiline: result.append(scalar)
            case "\r" where multiline && next < scalars.endIndex && scalars[next] == "\n": result.append(scalar)
            case "\n": result.append(contentsOf: #"\n"#.unicodeScalars)
            case "\t": result.append(contentsOf: #"\t"#.unicodeScalars)
            case "\r": result.append(contentsOf: #"\r"#.unicodeScalars)
            case _ where needsEscape(scalar):
                result.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            default: result.append(scalar)
            }
            index = next
        }
        return String(result)
    }

    /// One value on one line (``escape(_:multiline:)`` without `multiline`).
    public static func line(_ text: String) -> String { escape(text, multiline: false) }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// A timestamp (ms since the epoch) as ISO 8601 in UTC to the second
    /// ("2025-03-14T09:30:00Z"); "-" when `nil`.
    public static func time(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// `value` as stable JSON: pretty-printed, keys sorted, slashes unescaped. Nothing in it
    /// depends on when or where it ran, so replicas holding the same changes export the same bytes.
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
