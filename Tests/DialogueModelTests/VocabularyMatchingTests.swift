import DialogueModel
import Testing

/// Issue 14, item 4: vocabulary as people type it (any case, raw value or display name),
/// "did you mean" from one edit-distance rule, and fields named in the user's words.
@Suite("Words: vocabulary matching, suggestions, field names")
struct VocabularyMatchingTests {
    @Test(
        "a term by its raw value or display name, in any case, spaces or underscores for hyphens",
        arguments: [
            ("synergy", Hallmark.synergy), ("Synergy", .synergy), ("SYNERGY", .synergy), ("Shared responsibility", .sharedResponsibility),
            ("shared_responsibility", .sharedResponsibility), ("Shared-Responsibility", .sharedResponsibility),
            ("  Macro-community engagement ", .macroCommunityEngagement), ("macro community engagement", .macroCommunityEngagement),
        ])
    func matches(typed: String, term: Hallmark) throws {
        #expect(Hallmark(matching: typed) == term)
        #expect(try Hallmark.matching(typed) == term)
    }

    @Test("other vocabularies too: statuses, kinds, roles")
    func otherVocabularies() {
        #expect(SessionStatus(matching: "Held") == .held)
        #expect(InsightKind(matching: "Evidence from monitoring") == .evidenceFromMonitoring)
        #expect(MemberRole(matching: "senior leader") == .seniorLeader)
        #expect(Influence(matching: "RECIPROCAL") == .reciprocal)
    }

    @Test("an unknown term is refused with the accepted ones and the nearest")
    func unknown() {
        #expect(Hallmark(matching: "synergi") == nil && Hallmark(matching: "") == nil && Hallmark(matching: "-") == nil)
        #expect(Hallmark.suggestion(for: "Synergi") == "synergy")
        #expect(Hallmark.suggestion(for: "shared responsability") == "shared-responsibility")
        #expect(SessionStatus.suggestion(for: "hled") == "held")
        #expect(SessionStatus.suggestion(for: "banana") == nil)
        #expect {
            try Hallmark.matching("Synergi")
        } throws: { error in
            let message = "\(error)"
            return message.contains("did you mean 'synergy'?")
                && message.contains("shared-responsibility, shared-power-and-authority, synergy")
        }
        #expect(
            "\(UnknownTermError("banana", among: SessionStatus.self))"
                == "'banana' is not accepted. Accepted: planned, held, closed (or their names, in any case)")
    }

    @Test("suggestions: near typos, prefixes, nothing for a far word")
    func suggestions() {
        #expect(Suggestions.nearest(to: "lst", in: ["create", "list", "show"]) == "list")
        #expect(Suggestions.nearest(to: "sesions", in: ["sessions", "insights", "status"]) == "sessions")
        #expect(Suggestions.nearest(to: "SHOW", in: ["create", "list", "show"]) == "show")
        #expect(Suggestions.nearest(to: "add-part", in: ["add-participant", "remove-participant"]) == "add-participant")
        #expect(Suggestions.nearest(to: "xyzzy", in: ["create", "list", "show"]) == nil)
        #expect(Suggestions.nearest(to: "", in: ["list"]) == nil)
        #expect(Suggestions.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(Suggestions.editDistance(Array(""), Array("abc")) == 3)
        #expect(Suggestions.editDistance(Array("hled"), Array("held")) == 1)
        #expect(Suggestions.editDistance(Array("compelte"), Array("complete")) == 1)
    }

    @Test("fields in the user's words, in one place; messages use them, not the stored names")
    func fieldNames() {
        #expect(Action.Key.dueDate.descriptor.displayName == "due date")
        #expect(DialogueSession.Key.scheduledAt.descriptor.displayName == "scheduled time")
        #expect(DialogueSession.Key.hostSchool.descriptor.displayName == "host school")
        #expect(Insight.Key.evidenceSource.descriptor.displayName == "evidence source")
        #expect(Member.Key.displayName.descriptor.displayName == "name")
        for kind in EntityKind.allCases {
            for field in kind.fields {
                #expect(field.displayName == field.displayName.lowercased() && !field.displayName.isEmpty, "\(kind).\(field.name)")
            }
        }
        let problem = Action.Key.dueDate.descriptor.rule.problem(with: .string("31/02/2025"))
        #expect(problem == "must be a date as 2025-03-14 (YYYY-MM-DD), got '31/02/2025'")
        #expect(Action.Key.dueDate.descriptor.message(problem!, kind: .action).hasPrefix("the action's due date must be a date"))
    }
}
