import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import Testing

/// Whatever a replica would refuse for its shape, the server refuses too: otherwise it
/// would store a change that every replica then refuses, and nobody's sync could proceed.
@Suite("Shape validation on the server")
struct ShapeValidationTests {
    @Test("self-dependency, empty deletion range and empty entity kind are refused as malformed; nothing stored", arguments: 0..<3)
    func malformedShapes(_ variant: Int) async throws {
        try await withRouteHarness { h in
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var change = author.creates(1)[0]
            switch variant {
            case 0: change.dependencies = [Dot(change.replica, 1)]
            case 1: change.operation = .deleteText([try! DotRange(replica: change.replica, firstCounter: 1, length: 0)])
            default: change.operation = .create(kind: "", predecessors: [])
            }
            #expect(change.shapeProblem != nil)
            let before = try await h.held()
            let response = try await h.sync(RouteHarness.push([change], to: author.space))
            let body = try expectRefusal(response, 422, .invalidChanges)
            #expect(body.error.rejected?.first?.code == RejectionCode.malformed.rawValue)
            #expect(try await h.held() == before)
        }
    }
}
