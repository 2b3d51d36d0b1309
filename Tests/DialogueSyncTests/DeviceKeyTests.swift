import DialogueModel
import Foundation
import GRDB
import Testing

@testable import DialogueSync

/// Every replica has a device key: made with a new replica, made once for a replica older
/// than keys when this version first opens it, kept for ever, and never written anywhere
/// but the replica's own (0600) database.
@Suite("Device keys")
struct DeviceKeyTests {
    @Test("a new replica makes a device key and keeps it across reopening")
    func newReplicaHasAKey() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("replica.sqlite")
        let replica = try Replica(path: path)
        let reopened = try Replica(path: path)
        #expect(reopened.devicePublicKey == replica.devicePublicKey)
        let other = try Replica(path: directory.path("other.sqlite"))
        #expect(other.devicePublicKey != replica.devicePublicKey, "two replicas share a device key")
        withExtendedLifetime(directory) {}
    }

    @Test("the stored key signs, and its signatures verify under the public key")
    func keySigns() throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("replica.sqlite"))
        let reopened = try Replica(path: directory.path("replica.sqlite"))
        let message = Array("dialogue/chain-head/1".utf8)
        let signature = reopened.deviceKey.sign(message)
        #expect(replica.devicePublicKey.isValidSignature(signature, for: message))
        #expect(!replica.devicePublicKey.isValidSignature(signature, for: Array("dialogue/chain-head/2".utf8)))
    }

    @Test("a replica written before device keys (v1 fixture) gets one when first opened, keeping its identity and data")
    func oldReplicaGetsAKey() async throws {
        let directory = TemporaryDirectory()
        let path = try ReplicaMigrationTests().copyOfFixture(directory)
        let before = try await DatabaseQueue(path: path).read { db in try db.tableExists("device_key") }
        #expect(!before, "the fixture already has a device key table")
        let replica = try Replica(path: path)
        #expect(replica.id == ReplicaMigrationTests.V1.replica)
        #expect(await replica.document(ReplicaMigrationTests.V1.space)?.sessions.count == 1)
        let reopened = try Replica(path: path)
        #expect(reopened.devicePublicKey == replica.devicePublicKey, "reopening made another key")
    }

    @Test("a replica whose key row was removed refuses to open rather than silently making a new identity")
    func missingKeyIsRefused() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("replica.sqlite")
        _ = try Replica(path: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)  // the replica's connections may still be closing
        try await DatabaseQueue(path: path, configuration: configuration).write { db in try db.execute(sql: "DELETE FROM device_key") }
        #expect(throws: ReplicaError.self) { try Replica(path: path) }
    }

    @Test("the private key never leaves the database: not in a bundle, not in an export")
    func keyStaysHome() async throws {
        let directory = TemporaryDirectory()
        let replica = try Replica(path: directory.path("replica.sqlite"))
        let space = SpaceID(UUID())
        try await BundleTrust().login(replica, shared: [space])
        try await replica.addSpace(space)
        _ = try await replica.edit(in: space) { editor in try editor.createSession(title: "Keys stay home") }
        let bundle = URL(fileURLWithPath: directory.path("out.bundle"))
        _ = try replica.exportBundle(to: bundle)
        let bytes = try Data(contentsOf: bundle)
        #expect(bytes.range(of: Data(replica.deviceKey.rawRepresentation)) == nil, "the private key is in the bundle")
        let export = try #require(await replica.document(space)).canonicalExport()
        #expect(Data(export).range(of: Data(replica.deviceKey.rawRepresentation)) == nil)
    }
}
