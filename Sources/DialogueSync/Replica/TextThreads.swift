import DialogueModel

/// The merge pipeline's text threads: which spaces of one merge (or of one replay of the
/// log) integrate their text on a thread of their own, and those threads.
///
/// A space's frame of at least `threshold` changes lends its document's texts to a
/// ``TextIntegrationThread`` (`SpaceDocument.lendTexts()`); as the document applies, its
/// queued text changes are handed to the thread (``feed(_:_:)``); ending takes the texts
/// back. At most `maximum` run at once, oldest first, so a bundle of many large spaces
/// does not start a thread each.
struct TextThreads {
    static let maximum = 4
    /// Text changes handed to a thread at a time: one lock and wake-up per batch, not per change.
    static let batchSize = 256
    let threshold: Int
    private var spaces: [SpaceID] = []
    private var threads: [SpaceID: TextIntegrationThread] = [:]

    init(threshold: Int) { self.threshold = threshold }

    /// Starts `document`'s thread when a frame of `frameSize` changes calls for one.
    /// - Returns: the space whose thread the caller must now end (``end(_:_:)``) to stay
    ///   within the cap.
    mutating func start(_ space: SpaceID, _ document: inout SpaceDocument, frameSize: Int) -> SpaceID? {
        guard frameSize >= threshold, threads[space] == nil else { return nil }
        threads[space] = TextIntegrationThread(texts: document.lendTexts())
        spaces.append(space)
        return spaces.count > Self.maximum ? spaces.first : nil
    }

    /// Whether `space`'s text integrates on a thread of its own.
    func runs(_ space: SpaceID) -> Bool { threads[space] != nil }

    /// The state `space`'s thread holds, if one runs: freed once the thread exits.
    func threadState(of space: SpaceID) -> AnyObject? { threads[space]?.threadState }

    /// Hands `document`'s queued text changes to its thread once a batch is ready (`all`:
    /// whatever is queued). A drained text change waiting for the texts
    /// (`SpaceDocument.waitsForLentTexts`) brings them back for it and lends them again.
    /// - Throws: a text change the thread refused, when the texts had to come back.
    mutating func feed(_ space: SpaceID, _ document: inout SpaceDocument, all: Bool = false) throws(RefusedTextChange) {
        guard let thread = threads[space] else { return }
        if document.waitsForLentTexts {
            try end(space, &document)
            threads[space] = TextIntegrationThread(texts: document.lendTexts())
            spaces.append(space)
        } else if all || document.lentTextWorkCount >= Self.batchSize {
            thread.enqueue(document.takeLentTextWork())
        }
    }

    /// Hands over what `document` queued, waits for its thread to integrate it and takes
    /// the texts back; nothing when no thread runs for `space`.
    /// - Throws: the first text change the thread refused, as received; the document has
    ///   recorded it as applied regardless and must be discarded.
    mutating func end(_ space: SpaceID, _ document: inout SpaceDocument) throws(RefusedTextChange) {
        guard let thread = threads.removeValue(forKey: space) else { return }
        spaces.removeAll { $0 == space }
        thread.enqueue(document.takeLentTextWork())
        let (texts, failure) = thread.finish()
        document.returnTexts(texts)
        if let failure { throw failure }
    }

    /// Ends every thread, in the order the spaces are listed; the first refusal is thrown
    /// once all have ended.
    mutating func endAll(_ documents: inout [SpaceID: SpaceDocument], order: [SpaceID]) throws(RefusedTextChange) {
        var refusal: RefusedTextChange?
        for space in order where threads[space] != nil && documents[space] != nil {
            do throws(RefusedTextChange) { try end(space, &documents[space]!) } catch { refusal = refusal ?? error }
        }
        if let refusal { throw refusal }
    }
}
