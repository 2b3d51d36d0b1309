import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `members …`: the people named in a space, so sessions and reports show names.
struct Members: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Name the members of a space (reuse the server's member id with --id).", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a member to a space.")
        @Option(help: "Display name.") var name: String
        @Option(help: "headteacher, senior-leader, middle-leader, teacher, learning-assistant, support-staff or external-partner.")
        var role: MemberRole?
        @Option(help: "Home school: its id, an id prefix or its name.") var school: IDArgument?
        @Option(help: "The id to use (e.g. the member id the server issued).") var id: EntityID?
        @Option(help: "The space (needed when several are held): its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let space = try await replica.chooseSpace(space)
                let school = try await replica.resolve(self.school, .school)
                let (name, role, given) = (name, role, id)
                let id = try await replica.edit(in: space) { editor in
                    guard let given else { return try editor.createMember(name, role: role, homeSchool: school) }
                    try editor.create(.member, id: given)
                    try editor.set(Member.Field.displayName, of: given, to: .string(name))
                    if let role { try editor.set(Member.Field.role, of: given, to: FieldValue(role)) }
                    if let school { try editor.set(Member.Field.homeSchool, of: given, to: .reference(school)) }
                    return given
                }
                try global.emit(["member": id.description, "space": space.description], id.description)
            }
        }
    }

    struct Listed: Encodable {
        var id: EntityID
        var name: String?
        var role: MemberRole?
        var school: EntityID?
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the members named in a space.")
        @Option(help: "The space (needed when several are held): its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let space = try await replica.chooseSpace(space)
                let people = try replica.members(in: space).map {
                    Listed(id: $0.id, name: $0.name, role: $0.role, school: $0.homeSchool)
                }
                let short = await replica.shortIDs(people.map(\.id))
                try global.emit(
                    people,
                    people.map { "\(short[$0.id] ?? $0.id.description)  \(Terminal.line($0.name ?? "-"))  \($0.role?.rawValue ?? "-")" }
                        .joined(separator: "\n"))
            }
        }
    }
}

/// `schools …`: the schools named in a space.
struct Schools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Name the schools of a space (reuse the server's school id with --id).", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a school to a space.")
        @Option(help: "The school's name.") var name: String
        @Option(help: "The id to use (e.g. the school id the server issued).") var id: EntityID?
        @Option(help: "The space (needed when several are held): its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let space = try await replica.chooseSpace(space)
                let (name, given) = (name, id)
                let id = try await replica.edit(in: space) { editor in
                    guard let given else { return try editor.createSchool(name) }
                    try editor.create(.school, id: given)
                    try editor.set(School.Field.name, of: given, to: .string(name))
                    return given
                }
                try global.emit(["school": id.description, "space": space.description], id.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the schools named in a space.")
        @Option(help: "The space (needed when several are held): its UUID or its name.") var space: SpaceArgument?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await runReporting(json: global.json) {
                let replica = try global.openReplica()
                let space = try await replica.chooseSpace(space)
                struct ListedSchool: Encodable {
                    var id: EntityID
                    var name: String?
                }
                let schools = try replica.schools(in: space).map { ListedSchool(id: $0.id, name: $0.label) }
                let short = await replica.shortIDs(schools.map(\.id))
                try global.emit(
                    schools, schools.map { "\(short[$0.id] ?? $0.id.description)  \(Terminal.line($0.name ?? ""))" }.joined(separator: "\n")
                )
            }
        }
    }
}
