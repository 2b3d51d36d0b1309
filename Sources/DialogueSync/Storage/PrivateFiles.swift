import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files that hold notes (replicas, server stores, their `-wal`/`-shm`, bundles, exports,
/// logins) are readable by their owner only, whatever the umask: files 0600, folders 0700.
///
/// SQLite creates `-wal`, `-shm` and `-journal` with the permissions of the database file,
/// so a database created 0600 here before SQLite opens it keeps its companions 0600 too.
public enum PrivateFiles {
    /// Owner read and write.
    public static let fileMode: mode_t = 0o600
    /// Owner read, write and search.
    public static let directoryMode: mode_t = 0o700

    /// A file whose permissions were looser than ``fileMode`` and were tightened.
    public struct Tightened: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        /// The permission bits it had (e.g. 0o644).
        public var previousMode: mode_t

        public var description: String {
            "\(path) was readable by others (mode \(String(previousMode, radix: 8))); now \(String(PrivateFiles.fileMode, radix: 8))"
        }
    }

    /// Why a private file or folder could not be made.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Creates `path` and any missing parent folders with mode 0700. Folders that already
    /// exist are left as they are (one may be the user's home or `/tmp`).
    public static func createDirectory(_ path: String) throws(Failure) {
        var missing: [String] = []
        var current = (path as NSString).standardizingPath
        while !current.isEmpty, current != "/", !isDirectory(current) {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for directory in missing.reversed() {
            if mkdir(directory, directoryMode) != 0, errno != EEXIST {
                throw Failure(description: "cannot create folder \(directory): \(String(cString: strerror(errno)))")
            }
            // The umask may have removed bits from mkdir's mode; set exactly 0700.
            chmod(directory, directoryMode)
        }
        guard isDirectory(path) else { throw Failure(description: "\(path) exists and is not a folder") }
    }

    /// Makes ready a SQLite database at `path` before SQLite opens it: creates the file
    /// 0600 when missing, and tightens the file and any `-wal`, `-shm` or `-journal`
    /// beside it to 0600 when they are readable or writable by others.
    ///
    /// - Returns: the files tightened, so the caller can say so.
    @discardableResult
    public static func prepareDatabase(at path: String) throws(Failure) -> [Tightened] {
        // In-memory and temporary databases have no file to protect.
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return [] }
        if !FileManager.default.fileExists(atPath: path) { try createEmpty(path, existingIsFine: true) }
        var tightened: [Tightened] = []
        for file in [path, path + "-wal", path + "-shm", path + "-journal"] {
            if let change = try tighten(file) { tightened.append(change) }
        }
        return tightened
    }

    /// Creates an empty file 0600; fails if it already exists (a temporary file must be ours).
    public static func createEmpty(_ path: String) throws(Failure) {
        try createEmpty(path, existingIsFine: false)
    }

    private static func createEmpty(_ path: String, existingIsFine: Bool) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if descriptor < 0, errno == EEXIST, existingIsFine { return }  // another process created it first
        guard descriptor >= 0 else {
            throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        // The umask may have removed bits from open's mode; set exactly 0600.
        guard fchmod(descriptor, fileMode) == 0 else {
            throw Failure(description: "cannot set the permissions of \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `data` to `path` through a 0600 temporary file renamed into place, so the
    /// file is never visible half-written nor readable by others.
    public static func write(_ data: Data, to path: String) throws(Failure) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "" : directory + "/") + ".\((path as NSString).lastPathComponent).\(UUID().uuidString).tmp"
        try createEmpty(temporary)
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            unlink(temporary)
            throw Failure(description: "cannot write \(path): \(error.localizedDescription)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: "cannot write \(path): \(reason)")
        }
    }

    /// The permission bits of a file, or `nil` when there is none.
    public static func mode(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    private static func tighten(_ path: String) throws(Failure) -> Tightened? {
        var info = stat()
        // stat follows a symbolic link, as chmod does: the file that holds the data is checked.
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let mode = info.st_mode & 0o7777
        guard mode & 0o077 != 0 else { return nil }
        guard chmod(path, mode & 0o700) == 0 else {
            throw Failure(description: "\(path) is readable by others and cannot be made private: \(String(cString: strerror(errno)))")
        }
        return Tightened(path: path, previousMode: mode)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
