import DialogueModel
import DialogueSync

/// A row of a list that may mix spaces, as JSON: the row's own fields plus `spaceName`
/// (the space's name in the verified directory; left out when the directory does not list it).
struct WithSpaceName<Row: Encodable>: Encodable {
    var row: Row
    var spaceName: String?

    private enum CodingKeys: String, CodingKey { case spaceName }

    func encode(to encoder: any Encoder) throws {
        try row.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(spaceName, forKey: .spaceName)
    }
}

/// The SPACE column of a text table: shown when the rows may come from several spaces.
struct SpaceColumn {
    let names: SpaceNames
    /// Whether the column is shown: the listing spans more than one space.
    let shown: Bool

    /// For a listing of `listed` spaces (`nil`: every space held).
    init(_ names: SpaceNames, listing listed: [SpaceID]?) {
        self.names = names
        shown = (listed.map(Set.init) ?? names.held).count > 1
    }

    /// The cell: the space's name, or its id and "(not in your directory)".
    func cell(_ space: SpaceID) -> String { names.space(space).displayName }

    /// `header` with SPACE after its first column, when shown.
    func header(_ header: [String]) -> [String] { insert("SPACE", into: header) }

    /// `row` with the space's cell after its first column, when shown.
    func row(_ row: [String], space: SpaceID) -> [String] { insert(cell(space), into: row) }

    private func insert(_ cell: String, into row: [String]) -> [String] {
        guard shown else { return row }
        var row = row
        row.insert(cell, at: min(1, row.count))
        return row
    }
}

extension NamedSpace {
    /// The same space with its name on one line (control characters escaped), for text output.
    var oneLine: NamedSpace {
        var copy = self
        copy.name = name.map(Terminal.line)
        return copy
    }
}
