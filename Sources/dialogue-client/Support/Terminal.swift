/// Text shown to a person is made inert: what partners typed (titles, insights, names) and
/// what a server answered can hold control characters that a terminal would obey (ESC
/// sequences clear the screen, retitle the window or forge output; BEL rings; bidi
/// overrides reorder what is read). Every human-readable output of `dialogue-client`
/// goes through ``escape(_:multiline:)``; `--json` output stays exact.
enum Terminal {
    /// `text` with each control character written as an escape: `\n`, `\t`, `\r`, else
    /// `\u{1B}` with the code point in hex.
    ///
    /// Escaped: C0 controls (U+0000–U+001F), DEL (U+007F), C1 controls (U+0080–U+009F) and
    /// the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). With
    /// `multiline`, a newline, a tab and a carriage return before a newline stay as they
    /// are (the text is shown as lines); without it they are escaped too, so one value
    /// stays on one line (a title cannot forge the next row of a table). Backslashes are
    /// left alone.
    static func escape(_ text: String, multiline: Bool) -> String {
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

    /// One value shown on one line.
    static func line(_ text: String) -> String { escape(text, multiline: false) }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
