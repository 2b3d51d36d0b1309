import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// `POST /v1/erasures/approval` (docs/PROTOCOL.md, "Erasure approval"): the server's consent
/// goes to an admin's own registered device in a space the admin may use, and to nobody else.
struct ErasureApprovalTests {
    @Test("an admin's device gets an approval that verifies under the server's key, for that space, device and target")
    func adminIsApproved() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            let replica = ReplicaID.random()
            try await h.register(replica, token: "hill-admin")
            let target = Erasure.Target.field(EntityID(UUID()), "text")
            let approval = try await h.approval(target, in: space, for: replica)
            #expect(approval.space == space && approval.replica == replica && approval.target == target)
            let keys = try await ServerAuthority(store: h.store).keys()
            try approval.verify(trusting: try keys.ring)
            #expect(approval.signer == keys.current.publicKey)
            // A member's contributions (their devices sorted, each once) may be approved too.
            let devices = [ReplicaID.random(), .random()].sorted()
            let contributions = try await h.approval(.contributions(member: UUID(), replicas: devices), in: space, for: replica)
            try contributions.verify(trusting: try keys.ring)
        }
    }

    @Test(
        "a member or an observer is 403 erasure_not_permitted; a space the token may not use is 403 space_not_permitted; another member's device is 403; malformed bodies are 400"
    )
    func othersAreRefused() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            let target = Erasure.Target.entity(EntityID(UUID()))
            func ask(_ replica: ReplicaID, in space: SpaceID, token: String) async throws -> TestResponse {
                try await h.requestApproval(
                    try encodeJSON(ErasureApprovalRequest(space: space, replica: replica, target: target)), token: token)
            }
            for token in ["hill-member", "hill-observer"] {
                let replica = ReplicaID.random()
                try await h.register(replica, token: token)
                try expectRefusal(try await ask(replica, in: space, token: token), 403, .erasureNotPermitted)
            }
            let admins = ReplicaID.random()
            try await h.register(admins, token: "hill-admin")
            // Vale's private space: the same answer sync gives, whether or not it exists.
            try expectRefusal(try await ask(admins, in: h.accounts.vale.privateSpace, token: "hill-admin"), 403, .spaceNotPermitted)
            try expectRefusal(try await ask(admins, in: SpaceID(UUID()), token: "hill-admin"), 403, .spaceNotPermitted)
            // Someone else's device, and a device nobody registered.
            let adas = ReplicaID.random()
            try await h.register(adas, token: "hill-member")
            try expectRefusal(try await ask(adas, in: space, token: "hill-admin"), 403, .erasureNotPermitted)
            try expectRefusal(try await ask(.random(), in: space, token: "hill-admin"), 403, .erasureNotPermitted)
            // Malformed.
            for body in [
                "not json", #"{"space": "\#(space)", "replica": "\#(admins)"}"#,
                #"{"space": "\#(space)", "replica": "zz", "target": {"entity": "\#(UUID())"}}"#,
                #"{"space": "\#(space)", "replica": "\#(admins)", "target": {"entity": "\#(UUID())", "field": ""}}"#,
                #"{"space": "\#(space)", "replica": "\#(admins)", "target": {"member": "\#(UUID())", "replicas": []}}"#,
                #"{"space": "\#(space)", "replica": "\#(admins)", "target": {"member": "\#(UUID())", "replicas": ["00000000000000b2", "00000000000000a1"]}}"#,
            ] {
                try expectRefusal(try await h.requestApproval(Array(body.utf8), token: "hill-admin"), 400, .malformedRequest)
            }
            try expectRefusal(try await h.requestApproval(Array("{}".utf8), token: "nobody"), 401, .unauthorized)
        }
    }

    @Test("a revoked device gets no approval, and approvals count against the push limit (429)")
    func revokedAndRateLimited() async throws {
        var limits = ServerLimits()
        limits.pushesPerToken = RateLimit(2, per: .seconds(3600))
        try await withRouteHarness(limits: limits) { h in
            let space = h.accounts.partnership.sharedSpace
            let replica = ReplicaID.random()
            try await h.register(replica, token: "hill-admin")
            _ = try await h.approval(.entity(EntityID(UUID())), in: space, for: replica)
            _ = try await h.approval(.entity(EntityID(UUID())), in: space, for: replica)
            let body = try encodeJSON(ErasureApprovalRequest(space: space, replica: replica, target: .entity(EntityID(UUID()))))
            let limited = try await h.requestApproval(body, token: "hill-admin")
            try expectRefusal(limited, 429, .rateLimited)
            #expect(limited.headers[.retryAfter] != nil)
        }
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            let replica = ReplicaID.random()
            try await h.register(replica, token: "hill-admin")
            #expect(try await h.store.revokeToken(id: h.accounts.tokenIDs["hill-admin"]!))
            // Its token is revoked with it: 401 at the door. A device revoked on its own is 403.
            try expectRefusal(
                try await h.requestApproval(
                    try encodeJSON(ErasureApprovalRequest(space: space, replica: replica, target: .entity(EntityID(UUID())))),
                    token: "hill-admin"),
                401, .unauthorized)
        }
    }
}
