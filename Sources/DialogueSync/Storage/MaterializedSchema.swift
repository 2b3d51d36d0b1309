import GRDB

/// Tables that mirror the merged state for queries: one row per entity, child tables for
/// sets and lists, the values that lost concurrent writes, and a full-text index.
/// They are derived: the change log is the truth, and these are rewritten from the
/// pure model (`SpaceDocument`) in the same transaction as the changes they reflect.
enum MaterializedSchema {
    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE partnerships (
                    partnership_id BLOB PRIMARY KEY, space_id BLOB NOT NULL, name TEXT, continuum TEXT,
                    deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE TABLE partnership_schools (
                    partnership_id BLOB NOT NULL, school_id BLOB NOT NULL, PRIMARY KEY (partnership_id, school_id)
                ) WITHOUT ROWID;
                CREATE TABLE schools (
                    school_id BLOB PRIMARY KEY, space_id BLOB NOT NULL, name TEXT, reference TEXT, partnership_id BLOB,
                    deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE TABLE members (
                    member_id BLOB PRIMARY KEY, space_id BLOB NOT NULL, display_name TEXT, role TEXT, home_school BLOB,
                    deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE TABLE space_descriptions (
                    description_id BLOB PRIMARY KEY, space_id BLOB NOT NULL, owner_kind TEXT, owner BLOB,
                    deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE TABLE space_members (
                    description_id BLOB NOT NULL, member_id BLOB NOT NULL, PRIMARY KEY (description_id, member_id)
                ) WITHOUT ROWID;
                CREATE TABLE sessions (
                    session_id BLOB PRIMARY KEY, space_id BLOB NOT NULL, title TEXT, scheduled_at INTEGER,
                    host_school BLOB, facilitator BLOB, focus TEXT, strategy TEXT, status TEXT,
                    summary TEXT NOT NULL DEFAULT '', deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE INDEX sessions_by_date ON sessions (space_id, scheduled_at);
                CREATE INDEX sessions_by_status ON sessions (space_id, status);
                CREATE INDEX sessions_by_facilitator ON sessions (space_id, facilitator);
                CREATE TABLE session_participants (
                    session_id BLOB NOT NULL, member_id BLOB NOT NULL, PRIMARY KEY (session_id, member_id)
                ) WITHOUT ROWID;
                CREATE INDEX session_participants_by_member ON session_participants (member_id);
                CREATE TABLE agenda_items (
                    session_id BLOB NOT NULL, position INTEGER NOT NULL, prompt_id BLOB NOT NULL,
                    PRIMARY KEY (session_id, position)
                ) WITHOUT ROWID;
                CREATE TABLE prompts (
                    prompt_id BLOB PRIMARY KEY, space_id BLOB NOT NULL, text TEXT, theme TEXT, source TEXT,
                    deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE TABLE insights (
                    insight_id BLOB PRIMARY KEY, space_id BLOB NOT NULL, session_id BLOB, prompt_id BLOB, author BLOB,
                    kind TEXT, evidence_source TEXT, influence TEXT, text TEXT NOT NULL DEFAULT '',
                    deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE INDEX insights_by_session ON insights (session_id);
                CREATE INDEX insights_by_prompt ON insights (prompt_id);
                CREATE TABLE insight_hallmarks (
                    insight_id BLOB NOT NULL, hallmark TEXT NOT NULL, PRIMARY KEY (insight_id, hallmark)
                ) WITHOUT ROWID;
                CREATE INDEX insight_hallmarks_by_hallmark ON insight_hallmarks (hallmark, insight_id);
                CREATE TABLE actions (
                    action_id BLOB PRIMARY KEY, space_id BLOB NOT NULL, description TEXT, owner BLOB, due_date TEXT,
                    status TEXT, insight_id BLOB, session_id BLOB, deleted INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE INDEX actions_by_owner ON actions (owner, status, due_date);
                CREATE INDEX actions_by_session ON actions (session_id);
                -- Register fields with concurrent writes: every standing write, the winner flagged.
                CREATE TABLE field_conflicts (
                    entity_id BLOB NOT NULL, field TEXT NOT NULL, replica INTEGER NOT NULL, counter INTEGER NOT NULL,
                    space_id BLOB NOT NULL, kind TEXT NOT NULL, value_json TEXT NOT NULL, wall_time INTEGER NOT NULL,
                    logical INTEGER NOT NULL, is_winner INTEGER NOT NULL,
                    PRIMARY KEY (entity_id, field, replica, counter)
                ) WITHOUT ROWID;
                CREATE INDEX field_conflicts_by_space ON field_conflicts (space_id);
                -- Full text of session summaries and insights (FTS5), keyed through search_entities.
                CREATE TABLE search_entities (
                    search_rowid INTEGER PRIMARY KEY, entity_id BLOB NOT NULL UNIQUE, space_id BLOB NOT NULL, kind TEXT NOT NULL
                );
                CREATE VIRTUAL TABLE search_index USING fts5 (title, body, tokenize = 'unicode61 remove_diacritics 2');
                """)
    }
}
