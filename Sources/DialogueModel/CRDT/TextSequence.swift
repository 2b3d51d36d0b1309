/// Collaborative text: a ``RunSequence`` of Unicode scalars.
///
/// Positions count Unicode scalars (code points), as the editing traces do and as
/// Automerge and Loro's default text index do, so every platform agrees on offsets.
public typealias TextSequence = RunSequence<Unicode.Scalar>

extension RunSequence where Element == Unicode.Scalar {
    /// The visible text. Built in place from the scalars (ASCII a byte at a time), since a
    /// replica materialises a note's whole text whenever it changes.
    public var text: String {
        guard count > 0 else { return "" }
        return String(unsafeUninitializedCapacity: count * 4) { buffer in
            var length = 0
            forEachVisibleRun { run in
                for scalar in run {
                    let value = scalar.value
                    if value < 0x80 {
                        buffer[length] = UInt8(truncatingIfNeeded: value)
                        length += 1
                    } else {
                        for byte in UTF8.encode(scalar)! {
                            buffer[length] = byte
                            length += 1
                        }
                    }
                }
            }
            return length
        }
    }
}
