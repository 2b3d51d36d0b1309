import DialogueModel
import DialogueSync
import Foundation

/// What `login` stores beside the replica (file mode 0600): the server, the device token,
/// and what the server held after the last sync of each space. Who the leader is and the
/// server's key are in the replica's trust cache (its certificate and pinned key), not here.
struct LoginConfig: Codable {
    var server: String
    var token: String
    /// Per space: what the server held when the last sync finished.
    var serverHas: [String: VersionVector] = [:]
    /// `login --allow-insecure-http`: later syncs may use plain http:// to another machine.
    var allowInsecureHTTP: Bool?

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

    /// Writes the file atomically, readable by its owner only (0600).
    func save(_ path: String) throws {
        do { try PrivateFiles.write(Data(try Output.json(self).utf8), to: path) } catch {
            throw ClientError.io("\(error): check the directory exists and is writable")
        }
    }
}
