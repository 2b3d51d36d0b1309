import DialogueSync

/// Text shown to a person is made inert: what partners typed (titles, insights, names) and
/// what a server answered can hold control characters that a terminal would obey (ESC
/// sequences clear the screen, retitle the window or forge output; BEL rings; bidi
/// overrides reorder what is read). Every human-readable output of `dialogue-client`
/// goes through ``escape(_:multiline:)``; `--json` output stays exact.
enum Terminal {
    /// `text` with its control characters escaped (``ExportText/escape(_:multiline:)``, the
    /// library's rule, which exports follow too): with `multiline`, newlines and tabs stay.
    static func escape(_ text: String, multiline: Bool) -> String { ExportText.escape(text, multiline: multiline) }

    /// One value shown on one line.
    static func line(_ text: String) -> String { ExportText.line(text) }
}
