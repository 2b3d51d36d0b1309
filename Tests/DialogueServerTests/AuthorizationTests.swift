import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Who may read and write which space, through /v1/sync.
@Suite("Authorization matrix")
struct AuthorizationTests {
    /// The spaces a token is tried against, relative to its school.
    enum Target: String, CaseIterable, CustomStringConvertible {
        case ownSchool = "own school's private space"
        case partnerSchool = "partner school's private space"
        case shared = "partnership's shared space"
        case unknown = "a space that does not exist"

        var description: String { rawValue }

        func space(for token: String, in accounts: AccountFixture) -> SpaceID {
            let hill = token.hasPrefix("hill")
            switch self {
            case .ownSchool: return hill ? accounts.hill.privateSpace : accounts.vale.privateSpace
            case .partnerSchool: return hill ? accounts.vale.privateSpace : accounts.hill.privateSpace
            case .shared: return accounts.partnership.sharedSpace
            case .unknown: return SpaceID(UUID(uuidString: "0badbeef-0000-4000-8000-000000000000")!)
            }
        }
    }

    /// A read (push nothing) and a write (push one change) of `space` with `token`.
    static func readAndWrite(_ h: RouteHarness, token: String, space: SpaceID) async throws -> (read: TestResponse, write: TestResponse) {
        let read = try await h.sync(SyncRequest(replica: .random(), spaces: [.init(space: space, have: VersionVector())]), token: token)
        var author = ChangeAuthor(space: space)
        let write = try await h.sync(RouteHarness.push(author.creates(1), to: space), token: token)
        return (read, write)
    }

    /// The forbidden answer with the space's id blanked out, to compare answers across spaces.
    static func anonymised(_ response: TestResponse, _ space: SpaceID) throws -> String {
        #expect(response.status.code == 403)
        return response.text.replacingOccurrences(of: "\(space)", with: "<space>")
    }

    @Test(
        "role × space: members and admins read and write their school's and shared spaces; observers only read; other spaces are forbidden alike",
        arguments: ["hill-member", "hill-observer", "hill-admin", "vale-member"])
    func matrix(_ token: String) async throws {
        try await withRouteHarness { h in
            let canWrite = !token.hasSuffix("observer")
            var forbiddenBodies: [String: [String]] = [:]
            for target in Target.allCases {
                let space = target.space(for: token, in: h.accounts)
                let before = try await h.held()
                let (read, write) = try await Self.readAndWrite(h, token: token, space: space)
                switch target {
                case .ownSchool, .shared:
                    #expect(read.status == .ok, "\(token) reads the \(target): \(read.text)")
                    if canWrite {
                        #expect(write.status == .ok, "\(token) writes the \(target): \(write.text)")
                        #expect(try write.syncResponse().spaces.first?.accepted == 1)
                        #expect(try await h.store.vector(of: space).counters.count == (before[space]?.counters.count ?? 0) + 1)
                    } else {
                        let body = try expectRefusal(write, 403, .forbidden)
                        #expect(body.error.message.contains("read but not write"), "\(body.error.message)")
                        #expect(try await h.held() == before)
                    }
                case .partnerSchool, .unknown:
                    try expectRefusal(read, 403, .spaceNotPermitted)
                    try expectRefusal(write, 403, .spaceNotPermitted)
                    #expect(try await h.held() == before)
                    forbiddenBodies[target.rawValue] = [try Self.anonymised(read, space), try Self.anonymised(write, space)]
                }
            }
            // A space that exists elsewhere and one that does not get the same answer.
            let partner = try #require(forbiddenBodies[Target.partnerSchool.rawValue])
            let unknown = try #require(forbiddenBodies[Target.unknown.rawValue])
            #expect(partner == unknown)
            #expect(partner[0] == partner[1])
        }
    }

    @Test("a revoked token and no token are 401 unauthorized, for reads and writes")
    func unauthenticated() async throws {
        try await withRouteHarness { h in
            let space = h.accounts.partnership.sharedSpace
            #expect(try await h.store.revokeToken(id: h.accounts.tokenIDs["hill-member"]!))
            let before = try await h.held()
            for token: String? in ["hill-member", nil, "dlg_not-a-token", ""] {
                var author = ChangeAuthor(space: space)
                for request in [
                    SyncRequest(replica: author.replica, spaces: [.init(space: space, have: VersionVector())]),
                    RouteHarness.push(author.creates(1), to: space),
                ] {
                    try expectRefusal(try await h.sync(request, token: token), 401, .unauthorized)
                }
            }
            // Not a bearer token at all.
            var author = ChangeAuthor(space: space)
            let body = try encodeJSON(try await h.signed(RouteHarness.push(author.creates(1), to: space), token: "hill-admin"))
            for header in ["Basic aGlsbDpwYXNz", h.accounts.tokens["hill-admin"]!, "Bearer"] {
                let response = try await h.client.execute(
                    uri: "/v1/sync", method: .post, headers: [.authorization: header, .contentType: "application/json"],
                    body: ByteBuffer(bytes: body))
                try expectRefusal(response, 401, .unauthorized)
            }
            #expect(try await h.held() == before)
            // The scheme is case-insensitive; the other tokens of the school still work.
            let lower = try await h.client.execute(
                uri: "/v1/sync", method: .post, headers: [.authorization: "bearer \(h.accounts.tokens["hill-admin"]!)"],
                body: ByteBuffer(bytes: body))
            #expect(lower.status == .ok, "\(lower.text)")
        }
    }

    @Test("turning sharing off makes the shared space 403 for that school at once; on again restores it")
    func sharingOff() async throws {
        try await withRouteHarness { h in
            let shared = h.accounts.partnership.sharedSpace
            var (read, write) = try await Self.readAndWrite(h, token: "vale-member", space: shared)
            #expect(read.status == .ok && write.status == .ok)
            try await h.store.removeSchool(h.accounts.vale.id, fromPartnership: h.accounts.partnership.id)
            let before = try await h.held()
            (read, write) = try await Self.readAndWrite(h, token: "vale-member", space: shared)
            try expectRefusal(read, 403, .spaceNotPermitted)
            try expectRefusal(write, 403, .spaceNotPermitted)
            #expect(try await h.held() == before)
            // Its own space is untouched, and the other school still shares.
            (read, write) = try await Self.readAndWrite(h, token: "vale-member", space: h.accounts.vale.privateSpace)
            #expect(read.status == .ok && write.status == .ok)
            (read, write) = try await Self.readAndWrite(h, token: "hill-member", space: shared)
            #expect(read.status == .ok && write.status == .ok)
            // Sharing on again.
            try await h.store.addSchool(h.accounts.vale.id, toPartnership: h.accounts.partnership.id)
            (read, write) = try await Self.readAndWrite(h, token: "vale-member", space: shared)
            #expect(read.status == .ok && write.status == .ok)
        }
    }
}
