import ArgumentParser
import DialogueServer
import Foundation
import Logging

/// `dialogue-server admin …`: partnerships, schools, members and device tokens.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Create partnerships, schools and members; issue and revoke device tokens; manage the server's key; answer subject access requests; set and apply retention policies.",
        subcommands: [
            CreatePartnership.self, CreateSchool.self, AddSchool.self, RemoveSchool.self, CreateMember.self, IssueToken.self,
            ListTokens.self, RevokeToken.self, RevokeTokens.self, List.self, ListDevices.self, ServerKey.self, RotateKey.self,
            SubjectAccessCommand.self, Retention.self,
        ])

    /// Options every admin command shares.
    struct Common: ParsableArguments {
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print JSON instead of text.") var json = false
    }

    static func withStore<T>(_ common: Common, _ body: (any SyncStore) async throws -> T) async throws -> T {
        var logger = Logger(label: "dialogue.admin")
        logger.logLevel = .warning
        let store = try await common.store.open(logger: logger)
        do {
            let result = try await body(store)
            try await store.close()
            return result
        } catch let error as StoreError {
            try? await store.close()
            if case .notFound = error { throw NotFound(error.description) }
            throw ValidationError(error.description)
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// An id that names nothing the store holds: said on stderr, exit 66 (as the client's
    /// unknown ids), nothing changed.
    struct NotFound: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Prints `object` as JSON with --json, else `text`. Ids are printed in lower case,
    /// as the client prints them, whichever form Foundation gives.
    static func printResult(_ json: Bool, _ object: some Encodable, _ text: String) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(lowercasingIDs(String(decoding: try encoder.encode(object), as: UTF8.self)))
        } else {
            print(lowercasingIDs(text))
        }
    }

    /// `text` with every UUID in it lower-cased: only UUIDs standing alone, never a run
    /// inside a longer word such as a base64url token, which must print exactly.
    static func lowercasingIDs(_ text: String) -> String {
        text.replacing(/(^|[^A-Za-z0-9_\-])([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})(?![A-Za-z0-9_\-])/)
        {
            $0.output.1 + $0.output.2.lowercased()
        }
    }

    /// Warns on stderr when `name` is already used by one of `existing` (ignoring case and
    /// surrounding spaces): two schools or members of one name are easy to mix up.
    static func warnIfNameTaken(_ name: String, kind: String, among existing: [(id: UUID, name: String)]) {
        let key = name.trimmingCharacters(in: .whitespaces).lowercased()
        let taken = existing.filter { $0.name.trimmingCharacters(in: .whitespaces).lowercased() == key }
        guard !taken.isEmpty else { return }
        let ids = taken.map { $0.id.uuidString.lowercased() }.joined(separator: ", ")
        FileHandle.standardError.write(
            Data("warning: a \(kind) named \"\(name)\" already exists (\(ids)); created another one of the same name\n".utf8))
    }

    struct CreatePartnership: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a partnership (and its shared space).")
        @Option(help: "The partnership's name.") var name: String
        @OptionGroup var common: Common

        func run() async throws {
            let name = name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw ValidationError("--name cannot be empty") }
            let account = try await Admin.withStore(common) { store in
                let existing = try await store.partnerships().map { ($0.id, $0.name) }
                let account = try await store.createPartnership(name: name)
                Admin.warnIfNameTaken(name, kind: "partnership", among: existing)
                return account
            }
            try Admin.printResult(
                common.json, account, "partnership \(account.id)  \(account.name)\nshared space \(account.sharedSpace)")
        }
    }

    struct CreateSchool: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a school (and its private space).")
        @Option(help: "The school's name.") var name: String
        @Option(help: "A partnership to join at once (sharing on).") var partnership: UUID?
        @OptionGroup var common: Common

        func run() async throws {
            let name = name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw ValidationError("--name cannot be empty") }
            let account = try await Admin.withStore(common) { store in
                if let partnership, try await !store.partnerships().contains(where: { $0.id == partnership }) {
                    throw NotFound("partnership \(partnership) does not exist")
                }
                let existing = try await store.schools().map { ($0.id, $0.name) }
                var school = try await store.createSchool(name: name)
                Admin.warnIfNameTaken(name, kind: "school", among: existing)
                if let partnership {
                    try await store.addSchool(school.id, toPartnership: partnership)
                    school.partnerships = [partnership]
                }
                return school
            }
            try Admin.printResult(common.json, account, "school \(account.id)  \(account.name)\nprivate space \(account.privateSpace)")
        }
    }

    struct AddSchool: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Turn sharing on: a school joins a partnership's shared space.")
        @Option(help: "The school's id (from `admin list`).") var school: UUID
        @Option(help: "The partnership's id (from `admin list`).") var partnership: UUID
        @OptionGroup var common: Common

        func run() async throws {
            try await Admin.withStore(common) { try await $0.addSchool(school, toPartnership: partnership) }
            try Admin.printResult(
                common.json, ["school": school, "partnership": partnership], "school \(school) shares with partnership \(partnership)")
        }
    }

    struct RemoveSchool: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Turn sharing off: a school leaves a partnership's shared space.")
        @Option(help: "The school's id (from `admin list`).") var school: UUID
        @Option(help: "The partnership's id (from `admin list`).") var partnership: UUID
        @OptionGroup var common: Common

        func run() async throws {
            try await Admin.withStore(common) { store in
                guard try await store.partnerships().contains(where: { $0.id == partnership }) else {
                    throw NotFound("partnership \(partnership) does not exist")
                }
                guard let account = try await store.schools().first(where: { $0.id == school }) else {
                    throw NotFound("school \(school) does not exist")
                }
                guard account.partnerships.contains(partnership) else {
                    throw ValidationError("school \(school) (\(account.name)) is not in partnership \(partnership): nothing to remove")
                }
                try await store.removeSchool(school, fromPartnership: partnership)
            }
            try Admin.printResult(
                common.json, ["school": school, "partnership": partnership], "school \(school) no longer shares with \(partnership)")
        }
    }

    struct CreateMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a member of a school.")
        @Option(help: "The member's display name.") var name: String
        @Option(help: "The member's school.") var school: UUID
        @Option(help: "member (read/write), observer (read only) or admin.") var role: String = "member"
        @OptionGroup var common: Common

        func run() async throws {
            guard let access = MemberAccess(rawValue: role) else { throw ValidationError("--role must be member, observer or admin") }
            let name = name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw ValidationError("--name cannot be empty") }
            let account = try await Admin.withStore(common) { store in
                let existing = try await store.members().map { ($0.id, $0.name) }
                let account = try await store.createMember(name: name, school: school, role: access)
                Admin.warnIfNameTaken(name, kind: "member", among: existing)
                return account
            }
            try Admin.printResult(common.json, account, "member \(account.id)  \(account.name) (\(account.access.rawValue))")
        }
    }

    struct IssueToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a device token for a member (shown once).")
        @Option(help: "The member.") var member: UUID
        @Option(help: "A label to recognise the device by.") var label: String = "device"
        @OptionGroup var common: Common

        struct Issued: Encodable {
            var token: String
            var tokenID: UUID
            var member: UUID
        }

        func run() async throws {
            let (token, record) = Tokens.issue(for: member, label: label)
            try await Admin.withStore(common) { try await $0.storeToken(record) }
            try Admin.printResult(
                common.json, Issued(token: token, tokenID: record.id, member: member),
                "token \(token)\ntoken id \(record.id) (to revoke it)\nThis is the only time the token is shown; store it now.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List partnerships, schools and members.")
        @OptionGroup var common: Common

        struct Listing: Encodable {
            var partnerships: [PartnershipAccount]
            var schools: [SchoolAccount]
            var members: [MemberAccount]
        }

        func run() async throws {
            let listing = try await Admin.withStore(common) { store in
                Listing(
                    partnerships: try await store.partnerships(), schools: try await store.schools(), members: try await store.members())
            }
            var lines: [String] = []
            for partnership in listing.partnerships {
                lines.append("partnership \(partnership.id)  \(partnership.name)  space \(partnership.sharedSpace)")
            }
            for school in listing.schools { lines.append("school \(school.id)  \(school.name)  space \(school.privateSpace)") }
            for member in listing.members {
                lines.append("member \(member.id)  \(member.name)  \(member.access.rawValue)  school \(member.school)")
            }
            try Admin.printResult(common.json, listing, lines.isEmpty ? "(nothing yet)" : lines.joined(separator: "\n"))
        }
    }
}

extension UUID: @retroactive ExpressibleByArgument {
    public init?(argument: String) { self.init(uuidString: argument) }
}
