import DialogueModel
import DialogueSync
import Foundation

/// The JSON decoders that read what a peer sends: a change list, a sync request (as the
/// server reads it, binary sections included) and a sync response (as a client reads it).
/// Oracle: whatever decodes re-encodes to JSON that decodes to the same value; decoded
/// changes are applied to the corpus document as ``ApplyFuzz`` applies its own.
enum JSONFuzz {
    static func run(_ bytes: [UInt8]) throws(FuzzFinding) {
        let data = Data(bytes)
        let decoder = JSONDecoder()
        if let changes = try? decoder.decode([Change].self, from: data) {
            try roundTrip(changes)
            try ApplyFuzz.apply(changes)
        }
        if let request = try? decoder.decode(SyncRequest.self, from: data) {
            try roundTrip(request)
            for section in request.spaces { _ = try? section.allChanges() }
        }
        if let response = try? decoder.decode(SyncResponse.self, from: data) {
            try roundTrip(response)
            for section in response.spaces { _ = try? section.allChanges() }
        }
    }

    private static func roundTrip<T: Codable & Equatable>(_ value: T) throws(FuzzFinding) {
        let again: T
        do { again = try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(value)) } catch {
            throw FuzzFinding("a decoded \(T.self) does not survive re-encoding: \(error)")
        }
        guard again == value else { throw FuzzFinding("a decoded \(T.self) re-encodes to a different value") }
    }

    static func seeds() -> [(name: String, bytes: [UInt8])] {
        let changes = FuzzCorpus.changes()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json(_ value: some Encodable) -> [UInt8] { [UInt8](try! encoder.encode(value)) }
        var have = VersionVector()
        for change in changes { have.record(Dot(change.replica, change.lastCounter)) }
        let request = SyncRequest(replica: FuzzCorpus.hill, spaces: [.init(space: FuzzCorpus.space, have: have, changes: changes)])
        let binaryRequest = SyncRequest(
            replica: FuzzCorpus.vale, spaces: [.init(space: FuzzCorpus.space, have: have, changes: changes, binary: true)], limit: 10,
            binary: true)
        let response = SyncResponse(spaces: [
            .init(space: FuzzCorpus.space, accepted: 3, alreadyHeld: 1, changes: changes, more: true, serverHas: have, cursor: 42)
        ])
        return [
            ("changes.json", json(changes)),
            ("one-change.json", json([changes[changes.count / 2]])),
            ("request.json", json(request)),
            ("request-binary.json", json(binaryRequest)),
            ("response.json", json(response)),
        ]
    }
}
