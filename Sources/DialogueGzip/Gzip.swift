import CZlib
import Foundation

/// gzip through the system zlib: HTTP bodies, the editing traces, compressed sizes.
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// The data inflates past the limit it was given.
        public var tooLarge = false
    }

    /// Decompresses gzip (or zlib) data, refusing to produce more than `limit` bytes
    /// (a small body must not be able to inflate into gigabytes). Every inflation goes
    /// through here with its own bound: the server's request bodies, the sync client's
    /// answers, the traces; so the bound has no default.
    public static func decompress(_ data: [UInt8], limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = data
        let status: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            var result: Int32 = Z_OK
            repeat {
                result = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                if output.count > limit { return Z_BUF_ERROR }
            } while result == Z_OK
            return result
        }
        guard output.count <= limit else { throw Failure(description: "gzip data inflates past \(limit) bytes", tooLarge: true) }
        guard status == Z_STREAM_END else { throw Failure(description: "gzip data is corrupt or truncated (zlib status \(status))") }
        return output
    }

    /// Compresses to gzip at the default level (as `gzip` does).
    public static func compress(_ data: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        var stream = z_stream()
        precondition(
            deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                == Z_OK)
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 32)
        var input = data
        let written: Int = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<written])
    }
}
