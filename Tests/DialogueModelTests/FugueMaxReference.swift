import DialogueModel

/// FugueMax written plainly from its definition, as the yardstick for ``RunSequence``'s
/// order (test target only; slow on purpose: no runs, no caches, no indices).
///
/// Weidner & Kleppmann, "The Art of the Fugue: Minimizing Interleaving in Collaborative
/// Text Editing" (arXiv 2305.00583), Algorithm 1 (Fugue) and Definition 6 (FugueMax):
///
/// - The elements form a tree under a virtual root. Each element is a *left* or *right*
///   child of its parent. The list is the in-order traversal: a node's left children
///   (each with its subtree), then the node, then its right children (each with its
///   subtree). Deleted elements stay in the tree as tombstones and are skipped when read.
/// - To insert at visible index `i`: the *left origin* is the visible element at `i - 1`
///   (the root when `i == 0`). If the left origin has no right child (tombstones count),
///   the new element becomes its right child; otherwise it becomes a left child of the
///   *right origin*, the element that follows the left origin in the traversal
///   (tombstones included). A right child also remembers that right origin (or *end*).
/// - Siblings: left siblings in ascending ID order; right siblings (FugueMax) in the
///   REVERSE list order of their right origins (a sibling whose right origin is *end*
///   first), siblings with the same right origin in ascending ID order. IDs are dots,
///   compared by replica and then counter (Dialogue's tie-break: the lower replica first).
struct FugueMaxReference {
    enum Side: Hashable, CustomStringConvertible {
        case left, right
        var description: String { self == .left ? "L" : "R" }
    }

    /// One element as it travels between replicas: where it hangs in the tree.
    struct Insertion: Hashable, CustomStringConvertible {
        var id: Dot
        /// `nil`: the root.
        var parent: Dot?
        var side: Side
        /// The right origin of a right child (`nil`: end); unused for a left child.
        var rightOrigin: Dot?
        var value: Unicode.Scalar

        var description: String {
            "\(id) \(side) of \(parent.map(\.description) ?? "root") ro \(rightOrigin.map(\.description) ?? "end") '\(value)'"
        }
    }

    struct Node {
        var insertion: Insertion
        var deleted = false
    }

    private(set) var nodes: [Dot: Node] = [:]
    /// Children by parent (`nil`: the root), in arrival order; sorted when traversed.
    private var leftChildren: [Dot?: [Dot]] = [:]
    private var rightChildren: [Dot?: [Dot]] = [:]

    // MARK: Reading

    /// Every element, tombstones included, in list order (an iterative in-order walk: a
    /// run typed forward is a chain of right children, deeper than a stack likes).
    var order: [Dot] {
        enum Step {
            case visit(Dot?)
            case emit(Dot)
        }
        var result: [Dot] = []
        result.reserveCapacity(nodes.count)
        var stack: [Step] = [.visit(nil)]
        while let step = stack.popLast() {
            switch step {
            case .emit(let id): result.append(id)
            case .visit(let node):
                // Pushed in reverse: left children, the node, right children.
                for child in sortedRightChildren(of: node).reversed() { stack.append(.visit(child)) }
                if let node { stack.append(.emit(node)) }
                for child in sortedLeftChildren(of: node).reversed() { stack.append(.visit(child)) }
            }
        }
        return result
    }

    /// The visible elements' ids, in order.
    var visible: [Dot] { order.filter { !nodes[$0]!.deleted } }

    /// The visible text.
    var text: [Unicode.Scalar] { visible.map { nodes[$0]!.insertion.value } }

    func sortedLeftChildren(of parent: Dot?) -> [Dot] {
        (leftChildren[parent] ?? []).sorted()
    }

    func sortedRightChildren(of parent: Dot?) -> [Dot] {
        (rightChildren[parent] ?? []).sorted(by: rightSiblingPrecedes)
    }

    /// FugueMax's order of two right children of one parent.
    func rightSiblingPrecedes(_ a: Dot, _ b: Dot) -> Bool {
        let originA = nodes[a]!.insertion.rightOrigin
        let originB = nodes[b]!.insertion.rightOrigin
        if originA == originB { return a < b }
        guard let originA else { return true }  // end is after everything: its sibling first
        guard let originB else { return false }
        return precedes(originB, originA)  // reverse order of right origins
    }

    /// Whether `a` comes before `b` in the list, from their paths from the root, without
    /// traversing: the order of right siblings depends on where their right origins are,
    /// which this answers for elements older than the siblings (so it terminates).
    func precedes(_ a: Dot, _ b: Dot) -> Bool {
        precondition(a != b)
        let pathA = path(to: a)
        let pathB = path(to: b)
        var depth = 0
        while depth < pathA.count, depth < pathB.count, pathA[depth] == pathB[depth] { depth += 1 }
        if depth == pathA.count {  // a is an ancestor of b: b's branch decides
            return nodes[pathB[depth]]!.insertion.side == .right
        }
        if depth == pathB.count { return nodes[pathA[depth]]!.insertion.side == .left }
        let childA = nodes[pathA[depth]]!.insertion
        let childB = nodes[pathB[depth]]!.insertion
        if childA.side != childB.side { return childA.side == .left }
        if childA.side == .left { return childA.id < childB.id }
        return rightSiblingPrecedes(childA.id, childB.id)
    }

    /// The ancestors of `id` from the root's child down to `id` itself.
    private func path(to id: Dot) -> [Dot] {
        var path: [Dot] = [id]
        var current = nodes[id]!.insertion.parent
        while let next = current {
            path.append(next)
            current = nodes[next]!.insertion.parent
        }
        return path.reversed()
    }

    // MARK: Local edits (Algorithm 1)

    /// Inserts `value` at visible `index` as element `id` and returns what to send.
    mutating func insert(_ value: Unicode.Scalar, at index: Int, id: Dot) -> Insertion {
        let order = self.order
        let visible = order.filter { !nodes[$0]!.deleted }
        precondition(index >= 0 && index <= visible.count)
        let leftOrigin: Dot? = index == 0 ? nil : visible[index - 1]
        // The element after the left origin in the traversal, tombstones included.
        let after = leftOrigin.map { order.firstIndex(of: $0)! + 1 } ?? 0
        let rightOrigin: Dot? = after < order.count ? order[after] : nil
        let insertion: Insertion
        if (rightChildren[leftOrigin] ?? []).isEmpty {
            insertion = Insertion(id: id, parent: leftOrigin, side: .right, rightOrigin: rightOrigin, value: value)
        } else {
            insertion = Insertion(id: id, parent: rightOrigin!, side: .left, rightOrigin: nil, value: value)
        }
        apply(insertion)
        return insertion
    }

    /// Deletes the element at visible `index` and returns its id (what to send).
    mutating func delete(at index: Int) -> Dot {
        let id = visible[index]
        delete(id)
        return id
    }

    // MARK: Remote operations

    /// Adds an element received (its parent must be held: causal delivery).
    mutating func apply(_ insertion: Insertion) {
        guard nodes[insertion.id] == nil else { return }
        if let parent = insertion.parent { precondition(nodes[parent] != nil, "parent \(parent) not held") }
        nodes[insertion.id] = Node(insertion: insertion)
        switch insertion.side {
        case .left: leftChildren[insertion.parent, default: []].append(insertion.id)
        case .right: rightChildren[insertion.parent, default: []].append(insertion.id)
        }
    }

    /// Marks an element deleted (idempotent).
    mutating func delete(_ id: Dot) {
        precondition(nodes[id] != nil, "deleted element \(id) not held")
        nodes[id]!.deleted = true
    }
}
