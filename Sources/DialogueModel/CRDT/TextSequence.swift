/// Collaborative text: a ``RunSequence`` of Unicode scalars.
///
/// Positions count Unicode scalars (code points), as the editing traces do and as
/// Automerge and Loro's default text index do, so every platform agrees on offsets.
public typealias TextSequence = RunSequence<Unicode.Scalar>

extension RunSequence where Element == Unicode.Scalar {
    /// The visible text.
    public var text: String {
        var scalars = String.UnicodeScalarView()
        forEachVisibleRun { scalars.append(contentsOf: $0) }
        return String(scalars)
    }
}
