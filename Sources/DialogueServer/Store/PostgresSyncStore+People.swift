import DialogueModel
import Foundation
import PostgresNIO

extension PostgresSyncStore {
    public func people(visibleTo school: UUID) async throws -> (schools: [PeopleDirectory.School], people: [PeopleDirectory.Person]) {
        let rows = try await client.query(
            """
            WITH visible AS (
                SELECT \(school)::uuid AS school_id UNION
                SELECT mine.school_id FROM partnership_schools ours
                JOIN partnership_schools mine ON mine.partnership_id = ours.partnership_id WHERE ours.school_id = \(school)
            )
            SELECT s.school_id, s.name, NULL::uuid FROM schools s JOIN visible v ON v.school_id = s.school_id
            UNION ALL
            SELECT m.member_id, m.name, m.school_id FROM members m JOIN visible v ON v.school_id = m.school_id
            """, logger: logger)
        var schools: [PeopleDirectory.School] = []
        var people: [PeopleDirectory.Person] = []
        for try await (id, name, school) in rows.decode((UUID, String, UUID?).self) {
            if let school { people.append(.init(id: id, name: name, school: school)) } else { schools.append(.init(id: id, name: name)) }
        }
        return (schools, people)
    }
}
