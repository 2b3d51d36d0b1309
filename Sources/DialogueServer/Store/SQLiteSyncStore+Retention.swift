import DialogueModel
import Foundation
import GRDB

extension SQLiteSyncStore {
    static let retentionTable = """
        CREATE TABLE retention_policies (
            space_id BLOB PRIMARY KEY, closed_sessions_years INTEGER, insights_actions_years INTEGER, set_at INTEGER NOT NULL
        ) WITHOUT ROWID
        """

    public func setRetentionPolicy(_ record: RetentionPolicyRecord) async throws {
        try await database.write { db in
            if record.policy.isEmpty {
                try db.execute(sql: "DELETE FROM retention_policies WHERE space_id = ?", arguments: [record.space.storeBlob])
            } else {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO retention_policies (space_id, closed_sessions_years, insights_actions_years, set_at)
                        VALUES (?, ?, ?, ?)
                        """,
                    arguments: [
                        record.space.storeBlob, record.policy.closedSessionsYears, record.policy.insightsAndActionsYears, record.setAt,
                    ])
            }
        }
    }

    public func retentionPolicies() async throws -> [RetentionPolicyRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM retention_policies").map { row in
                RetentionPolicyRecord(
                    space: SpaceID(uuid: row["space_id"] as Data),
                    policy: RetentionPolicy(
                        closedSessionsYears: row["closed_sessions_years"], insightsAndActionsYears: row["insights_actions_years"]),
                    setAt: row["set_at"])
            }.sorted { $0.space < $1.space }
        }
    }
}
