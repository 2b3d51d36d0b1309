/// Collaborative text: a ``RunSequence`` of Unicode scalars.
///
/// Positions count Unicode scalars (code points), as the editing traces do and as
/// Automerge and Loro's default text index do, so every platform agrees on offsets.
public typealias TextSequence = RunSequence<Unicode.Scalar>

extension RunSequence where Element == Unicode.Scalar {
    /// The visible text.
    public var text: String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(count)
        forEachVisibleRun { run in
            for scalar in run { utf8.append(contentsOf: UTF8.encode(scalar)!) }
        }
        return String(decoding: utf8, as: UTF8.self)
    }
}
