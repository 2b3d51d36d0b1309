import DialogueModel
import DialogueSync
import Foundation
import GRDB

/// `dialogue-bench startup-replica`: a replica file for timing how fast a command starts
/// (docs/PERFORMANCE.md, "Start-up"): the replica benchmark's bundle of remote changes
/// imported into a replica logged in offline, kept at a path for `hyperfine` to run
/// `dialogue-client` against.
enum StartupBenchmark {
    /// Makes the replica at `path` (which must not exist) holding `changes` changes. With
    /// `synced`, writes the login file beside it as `dialogue-client` keeps it after a sync
    /// that left the server holding everything (so `status` has nothing to count).
    static func makeReplica(at path: String, changes: Int, synced: Bool) async throws {
        guard !FileManager.default.fileExists(atPath: path) else { fail("\(path) exists; remove it or pick another path") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dialogue-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bundle = directory.appendingPathComponent("startup.dlgb")
        _ = try ReplicaBenchmark.makeBundle(changes: changes, at: bundle)
        let replica = try Replica(path: path)
        try await BenchTrust.logIn(replica)
        let started = Date()
        let result = try await replica.importBundle(from: bundle)
        let imported = Date().timeIntervalSince(started)
        if synced {
            // The shape of dialogue-client's login file (Support/Login.swift): server, token, serverHas.
            struct Login: Encodable {
                var server = "https://dialogue.invalid"
                var token = "not-a-token"
                var serverHas: [String: VersionVector]
            }
            let held = try replica.heldVectors()
            let login = Login(serverHas: Dictionary(uniqueKeysWithValues: held.map { ($0.key.description, $0.value) }))
            try PrivateFiles.write(try JSONEncoder().encode(login), to: path + ".login.json")
        }
        try await replica.database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        print(String(format: "%@: %d changes imported in %.1f s%@", path, result.applied, imported, synced ? "; login file written" : ""))
    }
}
