import DialogueModel
import DialogueSync
import Foundation
import GRDB

extension SQLiteSyncStore {
    public func people(visibleTo school: UUID) async throws -> (schools: [PeopleDirectory.School], people: [PeopleDirectory.Person]) {
        try await database.read { db in
            let visible = """
                SELECT ? AS school_id UNION
                SELECT mine.school_id FROM partnership_schools ours
                JOIN partnership_schools mine ON mine.partnership_id = ours.partnership_id WHERE ours.school_id = ?
                """
            let arguments: StatementArguments = [school.storeBlob, school.storeBlob]
            let schools = try Row.fetchAll(
                db, sql: "SELECT s.school_id, s.name FROM schools s WHERE s.school_id IN (\(visible))", arguments: arguments
            ).map { row throws(DamagedRow) in
                PeopleDirectory.School(
                    id: try row.required("school_id", of: "schools", \.storedUUID),
                    name: try row.required("name", of: "schools", \.storedString))
            }
            let people = try Row.fetchAll(
                db, sql: "SELECT m.member_id, m.name, m.school_id FROM members m WHERE m.school_id IN (\(visible))", arguments: arguments
            ).map { row throws(DamagedRow) in
                PeopleDirectory.Person(
                    id: try row.required("member_id", of: "members", \.storedUUID),
                    name: try row.required("name", of: "members", \.storedString),
                    school: try row.required("school_id", of: "members", \.storedUUID))
            }
            return (schools, people)
        }
    }
}
