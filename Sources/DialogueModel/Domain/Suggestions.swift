/// "Did you mean …?": the nearest of some candidates to what was typed, by edit distance.
/// The one place the command line's suggestions (subcommands, vocabulary) are computed.
public enum Suggestions {
    /// The candidate nearest to `typed` (case-insensitive ``editDistance(_:_:)``), when it is
    /// near enough to be a typo: at most a third of the longer text's length, at least 1
    /// and at most 3 edits; or a candidate that begins with what was typed (3+ characters).
    /// Ties go to the earlier candidate.
    public static func nearest(to typed: String, in candidates: [String]) -> String? {
        let typedLower = Array(typed.lowercased())
        guard !typedLower.isEmpty else { return nil }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let lower = Array(candidate.lowercased())
            let distance = editDistance(typedLower, lower)
            let allowed = min(3, max(1, max(typedLower.count, lower.count) / 3))
            let prefix = typedLower.count >= 3 && lower.starts(with: typedLower)
            guard distance <= allowed || prefix else { continue }
            let score = prefix ? min(distance, allowed) : distance
            if best == nil || score < best!.distance { best = (candidate, score) }
        }
        return best?.candidate
    }

    /// The edit distance between two sequences: insertions, deletions, substitutions and
    /// swaps of two neighbours (`hled` for `held`), each one edit (optimal string alignment).
    public static func editDistance<Element: Equatable>(_ a: [Element], _ b: [Element]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        // Three rows: the one before the previous is what a swap looks back to.
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { current[j] = min(current[j], beforePrevious[j - 2] + 1) }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}
