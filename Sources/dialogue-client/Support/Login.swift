import DialogueModel
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What `login` stores beside the replica (file mode 0600): the server, the device token,
/// who the leader is, and what the server held after the last sync of each space.
struct LoginConfig: Codable {
    var server: String
    var token: String
    /// The member this device acts for (default author of insights), if given to `login`.
    var member: EntityID?
    /// Per space: what the server held when the last sync finished.
    var serverHas: [String: VersionVector] = [:]

    static func load(_ path: String) throws -> LoginConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ClientError.notFound("not logged in (no \(path)); run `dialogue-client login --server URL --token-file PATH`")
        }
        do {
            return try JSONDecoder().decode(LoginConfig.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ClientError.data("cannot read \(path): \(error); run `dialogue-client login` again")
        }
    }

    static func loadIfPresent(_ path: String) -> LoginConfig? {
        try? JSONDecoder().decode(LoginConfig.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes the file atomically, readable by its owner only.
    func save(_ path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let data = try Output.json(self)
        guard FileManager.default.createFile(atPath: temporary, contents: Data(data.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ClientError.io("cannot write \(temporary): check the directory exists and is writable")
        }
        chmod(temporary, 0o600)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ClientError.io("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
