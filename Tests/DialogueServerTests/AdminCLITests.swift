import DialogueServer
import Foundation
import Testing

/// `dialogue-server admin` as an operator uses it (issue 14, item 6): tokens listed and
/// revoked per member, unknown ids refused with exit 66 and nothing changed, help for every
/// option, ids in lower case, a warning for a name used twice, and `--version`.
struct AdminCLITests {
    func admin(_ arguments: [String], _ store: [String], json: Bool = false) async throws -> ProcessResult {
        try await runProcess(try serverBinary(), ["admin"] + arguments + store + (json ? ["--json"] : []), environment: childEnvironment())
    }

    func ok(_ arguments: [String], _ store: [String], json: Bool = false) async throws -> String {
        let result = try await admin(arguments, store, json: json)
        #expect(result.status == 0, "admin \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    /// Every UUID in `text` is written in lower case, and there is at least one.
    func idsAreLowercase(_ text: String) -> Bool {
        let ids = text.matches(of: /[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}/).map { String($0.output) }
        return !ids.isEmpty && ids.allSatisfy { $0 == $0.lowercased() }
    }

    @Test("tokens: listed per member without the secrets, revoked all at once; ids in lower case, text and JSON")
    func tokensListedAndRevokedPerMember() async throws {
        let directory = ServerTestDirectory()
        let store = ["--data-dir", directory.path("data")]
        let accounts = try await LiveAccounts.create(store)
        let hill = try #require(accounts.members["hill"])
        let second = try await ok(["issue-token", "--member", hill.uuidString, "--label", "tablet"], store)
        #expect(idsAreLowercase(second))

        let listed = try await ok(["list-tokens", "--member", hill.uuidString], store)
        #expect(listed.split(separator: "\n").count == 2, "\(listed)")
        #expect(listed.contains("tablet") && listed.contains("Leader at hill") && listed.contains("active"))
        #expect(!listed.contains(try #require(accounts.tokens["hill"])), "a token's secret was listed")
        #expect(idsAreLowercase(listed))
        let all = try await ok(["list-tokens"], store, json: true)
        #expect(idsAreLowercase(all))
        #expect(try JSONSerialization.jsonObject(with: Data(all.utf8)) as? [[String: Any]] != nil)
        #expect((try JSONSerialization.jsonObject(with: Data(all.utf8)) as? [Any])?.count == 3)

        let revoked = try await ok(["revoke-tokens", "--member", hill.uuidString], store)
        #expect(revoked.contains("revoked 2 token(s)"), "\(revoked)")
        #expect(try await ok(["list-tokens", "--member", hill.uuidString, "--active"], store).contains("(no tokens)"))
        #expect(try await ok(["list-tokens", "--active"], store).split(separator: "\n").count == 1, "the other member's token went too")
        #expect(try await ok(["revoke-tokens", "--member", hill.uuidString], store).contains("no active token"))
        #expect(idsAreLowercase(try await ok(["list"], store)))
        #expect(idsAreLowercase(try await ok(["list"], store, json: true)))
    }

    @Test("unknown ids are refused with exit 66 and a message, and nothing changes; removing a school not in the partnership is refused")
    func unknownIdsRefused() async throws {
        let directory = ServerTestDirectory()
        let store = ["--data-dir", directory.path("data")]
        let accounts = try await LiveAccounts.create(store)
        let before = try await ok(["list"], store, json: true)
        let nobody = UUID().uuidString
        let listing = try JSONDecoder().decode(Listing.self, from: Data(before.utf8))
        let partnership = try #require(listing.partnerships.first).id.uuidString
        let school = try #require(listing.schools.first).id.uuidString
        for arguments in [
            ["add-school", "--school", nobody, "--partnership", partnership],
            ["add-school", "--school", school, "--partnership", nobody],
            ["remove-school", "--school", nobody, "--partnership", partnership],
            ["remove-school", "--school", school, "--partnership", nobody],
            ["create-school", "--name", "Ghost School", "--partnership", nobody],
            ["create-member", "--name", "Ghost", "--school", nobody],
            ["issue-token", "--member", nobody],
            ["list-tokens", "--member", nobody],
            ["revoke-tokens", "--member", nobody],
            ["revoke-token", "--token-id", nobody],
        ] {
            let result = try await admin(arguments, store)
            #expect(result.status == 66, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("does not exist") || result.stderr.contains("no active token"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(nobody.lowercased()), "\(arguments): the message does not name the id")
        }
        #expect(try await ok(["list"], store, json: true) == before, "a refused command changed the store")
        #expect(try await ok(["list-tokens", "--active"], store).split(separator: "\n").count == accounts.tokens.count)

        // A school that exists but is not in the partnership: refused (64), not a silent success.
        let lone = try JSONDecoder().decode(
            SchoolAccount.self, from: Data(try await ok(["create-school", "--name", "Lone"], store, json: true).utf8))
        let result = try await admin(["remove-school", "--school", lone.id.uuidString, "--partnership", partnership], store)
        #expect(result.status == 64 && result.stderr.contains("is not in partnership"), "\(result.status) \(result.stderr)")
    }

    @Test("a name used twice is created with a warning; every option of every admin command has help; --version")
    func namesHelpAndVersion() async throws {
        let directory = ServerTestDirectory()
        let store = ["--data-dir", directory.path("data")]
        _ = try await ok(["create-school", "--name", "Hill School"], store)
        let again = try await admin(["create-school", "--name", " hill school "], store)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("warning: a school named") && again.stderr.contains("already exists"), "\(again.stderr)")
        let other = try await admin(["create-school", "--name", "Vale School"], store)
        #expect(other.status == 0 && other.stderr.isEmpty, "\(other.stderr)")

        let commands = [
            "create-partnership", "create-school", "add-school", "remove-school", "create-member", "issue-token", "list-tokens",
            "revoke-token", "revoke-tokens", "list", "list-devices", "server-key", "rotate-key", "subject-access", "retention set",
            "retention show", "retention apply",
        ]
        for command in commands {
            let help = try await runProcess(
                try serverBinary(), ["admin"] + command.split(separator: " ").map(String.init) + ["--help"], environment: childEnvironment()
            )
            #expect(help.status == 0, "\(command): \(help.stderr)")
            let undocumented = Self.optionsWithoutHelp(help.stdout)
            #expect(undocumented.isEmpty, "admin \(command): no help for \(undocumented)")
        }
        let version = try await runProcess(try serverBinary(), ["--version"], environment: childEnvironment())
        #expect(version.status == 0 && version.stdout.hasPrefix("dialogue-server 0.") && version.stdout.contains("sync protocol"))
    }

    /// The options a `--help` text lists with no description: an option line with nothing
    /// after its name, not followed by an indented description line.
    static func optionsWithoutHelp(_ help: String) -> [String] {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("OPTIONS:") }) else { return [] }
        var missing: [String] = []
        let option = /^  (-\w, )?--[\w-]+( <[\w-]+>)?( \.\.\.)?\s*$/
        for index in lines.indices where index > start {
            guard lines[index].wholeMatch(of: option) != nil else { continue }
            let next = index + 1 < lines.count ? lines[index + 1] : ""
            let described = next.hasPrefix("        ") && !next.trimmingCharacters(in: .whitespaces).hasPrefix("-")
            if !described { missing.append(lines[index].trimmingCharacters(in: .whitespaces)) }
        }
        return missing
    }

    struct Listing: Decodable {
        var partnerships: [PartnershipAccount]
        var schools: [SchoolAccount]
    }
}
