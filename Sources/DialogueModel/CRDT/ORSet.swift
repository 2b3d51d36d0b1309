/// An add-wins observed-remove set.
///
/// **Merge rule** (OR-Set, Shapiro et al., INRIA RR-7506, 2011, §3.3.5; optimised
/// "add-wins" form of Bieniusa et al., arXiv:1210.3368): every add is tagged with its
/// unique dot; a remove deletes only the tags its author had observed. An add that is
/// concurrent with a remove carries a tag the remove did not observe, so the element
/// stays: add wins. Tags are added and removed by identity, so operations commute.
public struct ORSet<Element: Hashable & Sendable>: Hashable, Sendable {
    /// Live tags per element; an element with no tags is absent.
    public private(set) var tags: [Element: Set<Dot>] = [:]

    public init() {}

    /// Whether `element` is in the set.
    public func contains(_ element: Element) -> Bool { tags[element] != nil }

    /// The elements present, in no particular order.
    public var elements: Dictionary<Element, Set<Dot>>.Keys { tags.keys }

    /// The number of elements present.
    public var count: Int { tags.count }

    /// Adds `element` with the tag `dot`.
    public mutating func add(_ element: Element, dot: Dot) {
        tags[element, default: []].insert(dot)
    }

    /// The tags a local remove of `element` must name.
    public func observedTags(of element: Element) -> [Dot] {
        (tags[element] ?? []).sorted()
    }

    /// Removes the observed tags of `element`; tags added concurrently survive.
    public mutating func remove(_ element: Element, observed: [Dot]) {
        // In place: one lookup, and no copy of the tags to edit and store back.
        guard let index = tags.index(forKey: element) else { return }
        tags.values[index].subtract(observed)
        if tags.values[index].isEmpty { tags.remove(at: index) }
    }
}
