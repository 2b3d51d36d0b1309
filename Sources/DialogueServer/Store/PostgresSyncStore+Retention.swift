import DialogueModel
import Foundation
import PostgresNIO

extension PostgresSyncStore {
    static let retentionTable: PostgresQuery = """
        CREATE TABLE IF NOT EXISTS retention_policies (
            space_id uuid PRIMARY KEY, closed_sessions_years integer, insights_actions_years integer, set_at bigint NOT NULL
        )
        """

    public func setRetentionPolicy(_ record: RetentionPolicyRecord) async throws {
        if record.policy.isEmpty {
            try await client.query("DELETE FROM retention_policies WHERE space_id = \(record.space.uuid)", logger: logger)
            return
        }
        let sessions = record.policy.closedSessionsYears.map(Int32.init)
        let insights = record.policy.insightsAndActionsYears.map(Int32.init)
        try await client.query(
            """
            INSERT INTO retention_policies (space_id, closed_sessions_years, insights_actions_years, set_at)
            VALUES (\(record.space.uuid), \(sessions), \(insights), \(record.setAt))
            ON CONFLICT (space_id) DO UPDATE SET closed_sessions_years = EXCLUDED.closed_sessions_years,
                insights_actions_years = EXCLUDED.insights_actions_years, set_at = EXCLUDED.set_at
            """, logger: logger)
    }

    public func retentionPolicies() async throws -> [RetentionPolicyRecord] {
        let rows = try await client.query(
            "SELECT space_id, closed_sessions_years, insights_actions_years, set_at FROM retention_policies", logger: logger)
        var records: [RetentionPolicyRecord] = []
        for try await (space, sessions, insights, setAt) in rows.decode((UUID, Int32?, Int32?, Int64).self) {
            records.append(
                RetentionPolicyRecord(
                    space: SpaceID(space),
                    policy: RetentionPolicy(closedSessionsYears: sessions.map(Int.init), insightsAndActionsYears: insights.map(Int.init)),
                    setAt: setAt))
        }
        return records.sorted { $0.space < $1.space }
    }
}
