import DialogueModel

/// Which spaces of one merge (or of one replay of the log) integrate their text on a
/// thread of their own, oldest first: a space's frame of at least `threshold` changes
/// starts one (`SpaceDocument.beginConcurrentTextIntegration`), and at most `maximum`
/// run at once, so a bundle of many large spaces does not start a thread each.
struct TextThreads {
    static let maximum = 4
    let threshold: Int
    private var spaces: [SpaceID] = []

    init(threshold: Int) { self.threshold = threshold }

    /// Starts `document`'s thread when a frame of `frameSize` changes calls for one.
    /// - Returns: the space whose thread the caller must now end to stay within the cap.
    mutating func start(_ space: SpaceID, _ document: inout SpaceDocument, frameSize: Int) -> SpaceID? {
        guard frameSize >= threshold, !document.integratesTextConcurrently else { return nil }
        document.beginConcurrentTextIntegration()
        spaces.append(space)
        return spaces.count > Self.maximum ? spaces.removeFirst() : nil
    }
}
