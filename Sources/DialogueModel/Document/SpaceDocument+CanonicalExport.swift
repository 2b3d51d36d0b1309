/// A deterministic rendering of the whole state, tombstones and conflicts included.
///
/// Two documents that applied the same changes, in any order, render the same bytes;
/// any difference in merged state shows. Convergence tests compare these bytes. The
/// format is line-oriented text (easy to diff when a test fails), not an interchange
/// format: exports for people and programs live in the client.
extension SpaceDocument {
    /// The canonical rendering as UTF-8 bytes.
    public func canonicalExport() -> [UInt8] {
        Array(canonicalExportText().utf8)
    }

    /// The canonical rendering as text.
    public func canonicalExportText() -> String {
        var lines: [String] = []
        lines.append("space \(space)")
        lines.append("vector " + render(vector))
        var fieldsByEntity: [EntityID: [String]] = [:]
        for (ref, register) in registers {
            fieldsByEntity[ref.entity, default: []].append(
                "  register \(quote(ref.field)) " + register.writes.map(render).joined(separator: " | "))
        }
        for (ref, set) in sets where set.count > 0 {
            let members = set.tags.sorted { $0.key < $1.key }.map { value, dots in
                render(value) + "{" + dots.sorted().map(\.description).joined(separator: ",") + "}"
            }
            fieldsByEntity[ref.entity, default: []].append("  set \(quote(ref.field)) " + members.joined(separator: " "))
        }
        for (ref, text) in texts.all {
            let runs = text.canonicalRuns.map { "\($0.first)+\($0.length)\($0.deleted ? "x" : "")" }.joined(separator: " ")
            fieldsByEntity[ref.entity, default: []].append("  text \(quote(ref.field)) \(quote(text.text)) runs \(runs)")
        }
        for (ref, list) in lists {
            let items = list.items.map { "\($0.id)=\(render($0.value))" }.joined(separator: " ")
            let entries = list.entries.sorted { $0.key < $1.key }.map { id, entry in
                "\(id):\(render(entry.value))\(entry.removed ? "x" : "")@[" + entry.slot.writes.map { "\($0.value)" }.joined(separator: ",")
                    + "]"
            }.joined(separator: " ")
            let slots = list.canonicalSlots.map { "\($0.first)+\($0.length)" }.joined(separator: " ")
            fieldsByEntity[ref.entity, default: []].append("  list \(quote(ref.field)) [\(items)] entries \(entries) slots \(slots)")
        }
        let entities = self.entities
        let ids = Set(entities.keys).union(fieldsByEntity.keys).sorted()
        for id in ids {
            var header = "entity \(id)"
            if let lifecycle = entities[id] {
                header += " kind " + lifecycle.kind.writes.map { "\(quote($0.value))@\($0.timestamp)/\($0.dot)" }.joined(separator: " | ")
                header += " edits " + render(lifecycle.edits)
                header += lifecycle.isDeleted ? " deleted" : " live"
                for deletion in lifecycle.deletions.sorted(by: { $0.dot < $1.dot }) {
                    header += " deletion \(deletion.dot)@\(deletion.timestamp) saw \(render(deletion.observed))"
                }
            }
            lines.append(header)
            lines.append(contentsOf: (fieldsByEntity[id] ?? []).sorted())
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func render(_ vector: VersionVector) -> String {
        "{" + vector.lastDots.map { "\($0.replica):\($0.counter)" }.joined(separator: ",") + "}"
    }

    private func render(_ write: LWWRegister<FieldValue>.Write) -> String {
        "\(render(write.value))@\(write.timestamp)/\(write.dot)"
    }

    private func render(_ value: FieldValue) -> String {
        switch value {
        case .string(let string): quote(string)
        default: value.description
        }
    }

    /// JSON-style quoting, so that every string renders on one line, unambiguously.
    private func quote(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
