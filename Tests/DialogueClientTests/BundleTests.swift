import Foundation
import Testing

@Suite("bundle export|import")
struct BundleTests {
    @Test("a bundle carries a session to another replica with no network; both export the same JSON")
    func roundTrip() async throws {
        let scratch = Scratch()
        let space = UUID().uuidString
        let hill = Leader("hill", in: scratch)
        let vale = Leader("vale", in: scratch)
        try await hill.ok(["init", "--space", space])
        try await vale.ok(["init", "--space", space])
        let session = try await hill.ok(["sessions", "create", "--title", "Offline only", "--at", "2025-03-14"])
        try await hill.ok(["insights", "capture", session, "Captured on the train."])
        let file = scratch.path("hill.bundle")
        try await hill.ok(["bundle", "export", file])
        let imported = try #require(try await vale.json(["bundle", "import", file]) as? [String: Any])
        #expect((imported["applied"] as? Int ?? 0) > 0)
        let hillExport = try await hill.ok(["export", "--space", space, "--format", "json"])
        let valeExport = try await vale.ok(["export", "--space", space, "--format", "json"])
        #expect(hillExport == valeExport && hillExport.contains("Captured on the train."))
        let csv = try await vale.ok(["export", "--session", session, "--format", "csv"])
        #expect(csv.hasPrefix("record,id,session,text") && csv.contains("Captured on the train."))
    }
}
