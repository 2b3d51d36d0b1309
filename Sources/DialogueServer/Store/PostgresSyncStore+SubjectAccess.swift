import DialogueModel
import Foundation
import PostgresNIO

/// What subject access reads from the PostgreSQL store beyond the other requests.
extension PostgresSyncStore {
    public func tokens(ofMember member: UUID) async throws -> [TokenListing] {
        let rows = try await client.query(
            "SELECT token_id, label, issued_at, revoked_at FROM tokens WHERE member_id = \(member) ORDER BY issued_at, token_id",
            logger: logger)
        var tokens: [TokenListing] = []
        for try await (id, label, issuedAt, revokedAt) in rows.decode((UUID, String, Int64, Int64?).self) {
            tokens.append(TokenListing(id: id, label: label, issuedAt: issuedAt, revokedAt: revokedAt))
        }
        return tokens
    }
}
