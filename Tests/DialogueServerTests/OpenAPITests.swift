import DialogueModel
import DialogueServer
import DialogueSync
import DialogueTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The OpenAPI document and the router agree.
@Suite("OpenAPI document")
struct OpenAPITests {
    /// The served document (GET /openapi.yaml).
    static func document(_ h: RouteHarness) async throws -> String {
        let response = try await h.client.execute(uri: "/openapi.yaml", method: .get)
        try #require(response.status == .ok)
        return response.text
    }

    /// "METHOD /path" for every operation under `paths:` (crudely: `^  /…:` then `^    get:`).
    static func documentedOperations(_ yaml: String) -> Set<String> {
        var operations: Set<String> = []
        var inPaths = false
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == "paths:" {
                inPaths = true
                continue
            }
            guard inPaths else { continue }
            if let first = line.first, first != " " { break }  // the next top-level key
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].contains(method) {
                    operations.insert("\(method) \(path)")
                }
            }
        }
        return operations
    }

    static func servedOperations() -> Set<String> {
        let server = SyncServer(
            service: SyncService(store: NeverStore(), logger: quietLogger("openapi")), metrics: nil, logger: quietLogger("openapi"))
        return Set(server.router().routes.map { "\($0.method.rawValue) \($0.path.description)" })
    }

    @Test("every route the router serves is in openapi.yaml, with its method")
    func routesAreDocumented() async throws {
        try await withRouteHarness { h in
            let documented = Self.documentedOperations(try await Self.document(h))
            let served = Self.servedOperations()
            #expect(served.count >= 5)
            #expect(documented.count >= 5)
            #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented).sorted())")
        }
    }

    @Test("every operation in openapi.yaml is served (not 404)")
    func documentedAreServed() async throws {
        try await withRouteHarness { h in
            let documented = Self.documentedOperations(try await Self.document(h))
            #expect(documented.contains("POST /v1/sync"))
            for operation in documented.sorted() {
                let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
                let method = HTTPRequest.Method(parts[0])!
                let response = try await h.client.execute(
                    uri: parts[1], method: method, body: method == .post ? ByteBuffer(string: "{}") : nil)
                #expect(response.status != .notFound && response.status != .methodNotAllowed, "\(operation) → \(response.status)")
                if method == .get { #expect(response.status == .ok, "\(operation) → \(response.status)") }
            }
            #expect(Self.servedOperations().subtracting(documented).isEmpty)
        }
    }

    /// The device key of the documented examples: RFC 8032's TEST 1 secret key (section 7.1),
    /// whose public key is the `/v1/devices` example's `publicKey`.
    static let exampleDeviceKey = try! SigningKeyPair(
        rawRepresentation: [UInt8](Data(base64Encoded: "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")!))  // 9d61b19d…1cae7f60

    @Test(
        "the /v1/sync request example is signed by the /v1/devices example's key, and accepted once that device is registered (in the fixture's shared space, re-signed there)"
    )
    func requestExampleIsAccepted() async throws {
        try await withRouteHarness { h in
            let yaml = try await Self.document(h)
            let parsed = try Self.requestExample(yaml)
            let example = try #require(parsed, "no request example under /v1/sync in openapi.yaml")
            var json = String(decoding: try JSONSerialization.data(withJSONObject: example, options: [.sortedKeys]), as: UTF8.self)
            // As documented, its head verifies: the chain over its change, signed by the
            // registration example's key.
            let documented = try JSONDecoder().decode(SyncRequest.self, from: Data(json.utf8))
            let registration = try #require(try Self.requestExample(yaml, path: "/v1/devices") as? [String: Any])
            let key = try #require(PublicSigningKey(base64: registration["publicKey"] as? String ?? ""))
            #expect(key == Self.exampleDeviceKey.publicKey)
            let section = try #require(documented.spaces.first)
            #expect(section.heads.count == 1)
            let chain = try ChainVerifier(ring: ServerKeyRing(pinned: key)).verify(
                try section.allChanges(), extending: DeviceChain(space: section.space, replica: ReplicaID("00000000000000a1")!),
                heads: section.heads, signedBy: key)
            #expect(chain.counter == 1)

            // In the fixture's space: the chain hash covers the space, so the head is signed again there.
            let exampleSpace = "5ace0000-0000-4000-8000-000000000001"
            #expect(json.contains(exampleSpace))
            json = json.replacingOccurrences(of: exampleSpace, with: "\(h.accounts.partnership.sharedSpace)")
            var request = try JSONDecoder().decode(SyncRequest.self, from: Data(json.utf8))
            var signer = ChangeSigner(key: Self.exampleDeviceKey)
            request.spaces[0].heads = try signer.sign(try request.spaces[0].allChanges())
            let unregistered = try expectRefusal(try await h.syncAsSent(request), 422, .invalidChanges)
            #expect(unregistered.error.rejected?.map(\.code) == [RejectionCode.unknownDevice.rawValue])
            try await h.register(ReplicaID("00000000000000a1")!, key: Self.exampleDeviceKey)
            let response = try await h.syncAsSent(request)
            #expect(response.status == .ok, "\(response.text)\nrequest: \(json)")
            let result = try #require(try response.syncResponse().spaces.first)
            #expect(result.accepted == 1)
            #expect(result.serverHas.vector == VersionVector([ReplicaID("00000000000000a1")!: 1]))
            // Documented: a retry of the example is fine and stores nothing twice.
            let again = try await h.syncAsSent(request)
            #expect(try again.syncResponse().spaces.first?.alreadyHeld == 1)
        }
    }

    @Test("the /health and /ready examples are what the routes answer")
    func responseExamples() async throws {
        try await withRouteHarness { h in
            let yaml = try await Self.document(h)
            for (path, expected) in [("/health", ["status": "ok"]), ("/ready", ["status": "ready"])] {
                let line = try #require(
                    yaml.components(separatedBy: "\n").drop { $0 != "  \(path):" }.first { $0.contains("example:") })
                let example = try MiniYAML.parseFlow(String(line[line.range(of: "example:")!.upperBound...]))
                #expect(example as? [String: String] == expected)
                let response = try await h.client.execute(uri: path, method: .get)
                #expect(try response.decoded([String: String].self) == expected)
            }
        }
    }

    @Test("the error and rejection codes in the document are exactly the ones the server uses")
    func codesAreDocumented() async throws {
        try await withRouteHarness { h in
            let yaml = try await Self.document(h)
            var enums: [Set<String>] = []
            for line in yaml.components(separatedBy: "\n") {
                guard let open = line.range(of: "enum: ["), let close = line[open.upperBound...].firstIndex(of: "]") else { continue }
                let list = try MiniYAML.parseFlow(String(line[line.index(before: open.upperBound)...close]))
                enums.append(Set(((list as? [Any]) ?? []).map { "\($0)" }))
            }
            #expect(enums.contains(Set(SyncErrorCode.allCases.map(\.rawValue))), "ErrorBody.error.code enum differs from SyncErrorCode")
            #expect(enums.contains(Set(RejectionCode.allCases.map(\.rawValue))), "rejected[].code enum differs from RejectionCode")
        }
    }

    @Test("every JSON property a sync request or response carries is in the document's schemas")
    func schemasCoverTheWireFormat() async throws {
        try await withRouteHarness { h in
            let yaml = try await Self.document(h)
            // A request with the optional limit set.
            var author = ChangeAuthor(space: h.accounts.partnership.sharedSpace)
            var request = RouteHarness.push(author.creates(1), to: author.space)
            request.limit = 10
            request = try await h.signed(request, token: "hill-member")  // with its heads
            request.spaces[0].certified = [author.replica: 1]  // the certificates it holds, optional
            let requestObject = try #require(try JSONSerialization.jsonObject(with: Data(try encodeJSON(request))) as? [String: Any])
            let response = try await h.syncAsSent(request)
            let responseObject = try #require(try JSONSerialization.jsonObject(with: Data(response.bytes)) as? [String: Any])
            let requestSpace = try #require((requestObject["spaces"] as? [[String: Any]])?.first)
            let responseSpace = try #require((responseObject["spaces"] as? [[String: Any]])?.first)
            let schemas = Self.schemaProperties(yaml)
            let checks: [(String, Set<String>, Set<String>)] = [
                ("SyncRequest", Set(requestObject.keys), schemas["SyncRequest"] ?? []),
                ("SyncRequest.spaces[]", Set(requestSpace.keys), schemas["SyncRequest.spaces"] ?? []),
                ("SyncResponse", Set(responseObject.keys), schemas["SyncResponse"] ?? []),
                ("SyncResponse.spaces[]", Set(responseSpace.keys), schemas["SyncResponse.spaces"] ?? []),
            ]
            for (name, sent, documented) in checks {
                #expect(!documented.isEmpty, "no properties found for \(name)")
                #expect(
                    sent.subtracting(documented).isEmpty, "\(name) carries undocumented properties \(sent.subtracting(documented).sorted())"
                )
            }
        }
    }

    // MARK: Crude YAML reading

    /// The `example:` block under `path` (`/v1/sync` unless given) → `requestBody`, as JSON-compatible values.
    static func requestExample(_ yaml: String, path route: String = "/v1/sync") throws -> Any? {
        let lines = yaml.components(separatedBy: "\n")
        guard let path = lines.firstIndex(of: "  \(route):"),
            let body = lines[path...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "requestBody:" }),
            let start = lines[body...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "example:" })
        else { return nil }
        let indent = lines[start].prefix { $0 == " " }.count
        let block = lines[(start + 1)...].prefix { line in
            line.trimmingCharacters(in: .whitespaces).isEmpty || line.prefix { $0 == " " }.count > indent
        }
        return try MiniYAML.parseBlock(Array(block))
    }

    /// Property names of SyncRequest, SyncResponse and their `spaces` items, by indentation.
    static func schemaProperties(_ yaml: String) -> [String: Set<String>] {
        let lines = yaml.components(separatedBy: "\n")
        var result: [String: Set<String>] = [:]
        for schema in ["SyncRequest", "SyncResponse"] {
            guard let start = lines.firstIndex(of: "    \(schema):") else { continue }
            let body = lines[(start + 1)...].prefix { $0.hasPrefix("      ") || $0.isEmpty }
            var top: Set<String> = []
            var items: Set<String> = []
            var inSpaces = false
            for line in body {
                let indent = line.prefix { $0 == " " }.count
                let key = line.trimmingCharacters(in: .whitespaces).components(separatedBy: ":")[0]
                if indent == 8, line.contains(":") {
                    top.insert(key)
                    inSpaces = key == "spaces"
                } else if inSpaces, indent == 14, line.contains(":") {
                    items.insert(key)
                }
            }
            result[schema] = top
            result["\(schema).spaces"] = items
        }
        return result
    }
}

/// Enough of YAML for the document's examples: block mappings and sequences, flow
/// mappings and sequences, plain and quoted scalars.
enum MiniYAML {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func parseBlock(_ lines: [String]) throws -> Any {
        let meaningful = lines.filter {
            let trimmed = $0.trimmingCharacters(in: .whitespaces)
            return !trimmed.isEmpty && !trimmed.hasPrefix("#")
        }
        var index = 0
        var lines = meaningful
        guard let first = meaningful.first else { return NSNull() }
        return try block(&lines, &index, indent: first.prefix { $0 == " " }.count)
    }

    private static func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }

    private static func block(_ lines: inout [String], _ index: inout Int, indent: Int) throws -> Any {
        let content = lines[index].dropFirst(indent)
        if content.hasPrefix("- ") || content == "-" {
            var items: [Any] = []
            while index < lines.count, indentation(lines[index]) == indent, lines[index].dropFirst(indent).hasPrefix("-") {
                let rest = lines[index].dropFirst(indent + 1).drop { $0 == " " }
                if rest.isEmpty {
                    index += 1
                    items.append(try block(&lines, &index, indent: indentation(lines[index])))
                } else if (try? splitKey(String(rest))) != nil, !rest.hasPrefix("{"), !rest.hasPrefix("[") {
                    lines[index] = String(repeating: " ", count: indent + 2) + rest
                    items.append(try block(&lines, &index, indent: indent + 2))
                } else {
                    items.append(try parseFlow(String(rest)))
                    index += 1
                }
            }
            return items
        }
        var mapping: [String: Any] = [:]
        while index < lines.count, indentation(lines[index]) == indent, !lines[index].dropFirst(indent).hasPrefix("- ") {
            let line = String(lines[index].dropFirst(indent))
            let (key, rest) = try splitKey(line)
            index += 1
            if rest.isEmpty {
                if index < lines.count, indentation(lines[index]) > indent {
                    mapping[key] = try block(&lines, &index, indent: indentation(lines[index]))
                } else if index < lines.count, indentation(lines[index]) == indent, lines[index].dropFirst(indent).hasPrefix("- ") {
                    mapping[key] = try block(&lines, &index, indent: indent)
                } else {
                    mapping[key] = NSNull()
                }
            } else {
                mapping[key] = try parseFlow(rest)
            }
        }
        return mapping
    }

    /// `key: rest` (the key plain or quoted).
    private static func splitKey(_ line: String) throws -> (String, String) {
        var scanner = FlowScanner(Array(line))
        let key: String
        if scanner.peek == "\"" || scanner.peek == "'" {
            key = try scanner.quoted()
        } else {
            var text = ""
            while let c = scanner.peek, !(c == ":" && (scanner.peek(1) == nil || scanner.peek(1) == " ")) {
                text.append(c)
                scanner.index += 1
            }
            key = text.trimmingCharacters(in: .whitespaces)
        }
        guard scanner.peek == ":" else { throw Failure(description: "expected 'key:' in \(line)") }
        scanner.index += 1
        return (key, String(scanner.characters[scanner.index...]).trimmingCharacters(in: .whitespaces))
    }

    /// A flow value: `{ a: 1, b: [x, "y"] }`, `[]`, `"text"`, `plain`.
    static func parseFlow(_ text: String) throws -> Any {
        var scanner = FlowScanner(Array(text.trimmingCharacters(in: .whitespaces)))
        let value = try scanner.value(inFlow: false)
        scanner.skipSpaces()
        guard scanner.peek == nil || scanner.peek == "#" else { throw Failure(description: "trailing text in \(text)") }
        return value
    }

    struct FlowScanner {
        let characters: [Character]
        var index = 0

        init(_ characters: [Character]) { self.characters = characters }

        var peek: Character? { index < characters.count ? characters[index] : nil }
        func peek(_ offset: Int) -> Character? { index + offset < characters.count ? characters[index + offset] : nil }

        mutating func skipSpaces() { while peek == " " { index += 1 } }

        mutating func expect(_ c: Character) throws {
            skipSpaces()
            guard peek == c else { throw Failure(description: "expected \(c) at \(index) in \(String(characters))") }
            index += 1
        }

        mutating func quoted() throws -> String {
            let quote = peek!
            index += 1
            var text = ""
            while let c = peek, c != quote {
                if c == "\\", quote == "\"", let next = peek(1) {
                    text.append(next == "n" ? "\n" : next)
                    index += 2
                } else {
                    text.append(c)
                    index += 1
                }
            }
            try expect(quote)
            return text
        }

        mutating func value(inFlow: Bool) throws -> Any {
            skipSpaces()
            switch peek {
            case "{":
                index += 1
                var mapping: [String: Any] = [:]
                skipSpaces()
                if peek == "}" {
                    index += 1
                    return mapping
                }
                while true {
                    skipSpaces()
                    let key = (peek == "\"" || peek == "'") ? try quoted() : plain(stoppingAt: ":")
                    try expect(":")
                    mapping[key] = try value(inFlow: true)
                    skipSpaces()
                    if peek == "," {
                        index += 1
                        continue
                    }
                    try expect("}")
                    return mapping
                }
            case "[":
                index += 1
                var items: [Any] = []
                skipSpaces()
                if peek == "]" {
                    index += 1
                    return items
                }
                while true {
                    items.append(try value(inFlow: true))
                    skipSpaces()
                    if peek == "," {
                        index += 1
                        continue
                    }
                    try expect("]")
                    return items
                }
            case "\"", "'":
                return try quoted()
            default:
                return scalar(plain(stoppingAt: inFlow ? ",}]" : "#"))
            }
        }

        mutating func plain(stoppingAt stops: String) -> String {
            var text = ""
            while let c = peek, !stops.contains(c) {
                text.append(c)
                index += 1
            }
            return text.trimmingCharacters(in: .whitespaces)
        }

        func scalar(_ text: String) -> Any {
            if let int = Int(text) { return int }
            if text.range(of: #"^-?[0-9]+\.[0-9]+$"#, options: .regularExpression) != nil, let double = Double(text) { return double }
            switch text {
            case "true": return true
            case "false": return false
            case "null", "~", "": return NSNull()
            default: return text
            }
        }
    }
}

/// A store that is never used (to build a router for its route list).
struct NeverStore: SyncStore {
    struct Unused: Error {}
    func ping() async throws { throw Unused() }
    func close() async throws {}
    func vector(of space: SpaceID) async throws -> VersionVector { throw Unused() }
    func storedChanges(in space: SpaceID, replica: ReplicaID, counters: ClosedRange<UInt64>) async throws -> [Change] { throw Unused() }
    func append(_ changes: [Change], heads: [ChainHead], to space: SpaceID) async throws { throw Unused() }
    func rewrite(_ changes: [Change], in space: SpaceID) async throws { throw Unused() }
    func chainHeads(in space: SpaceID, covering ranges: [ReplicaID: ClosedRange<UInt64>]) async throws -> [ChainHead] { throw Unused() }
    func latestChainHeads(in space: SpaceID, of replicas: some Collection<ReplicaID>) async throws -> [ReplicaID: ChainHead] {
        throw Unused()
    }
    func changes(in space: SpaceID, missingFrom vector: VersionVector, after: Int64, limit: Int) async throws -> ChangePageResult {
        throw Unused()
    }
    func createPartnership(name: String) async throws -> PartnershipAccount { throw Unused() }
    func createSchool(name: String) async throws -> SchoolAccount { throw Unused() }
    func addSchool(_ school: UUID, toPartnership partnership: UUID) async throws { throw Unused() }
    func removeSchool(_ school: UUID, fromPartnership partnership: UUID) async throws { throw Unused() }
    func createMember(name: String, school: UUID, role: MemberAccess) async throws -> MemberAccount { throw Unused() }
    func storeToken(_ token: TokenRecord) async throws { throw Unused() }
    func member(forTokenHash hash: [UInt8]) async throws -> MemberAccount? { throw Unused() }
    func spaces(ofSchool school: UUID) async throws -> Set<SpaceID> { throw Unused() }
    func partnerships() async throws -> [PartnershipAccount] { throw Unused() }
    func schools() async throws -> [SchoolAccount] { throw Unused() }
    func members() async throws -> [MemberAccount] { throw Unused() }
    func token(forTokenHash hash: [UInt8]) async throws -> TokenAccess? { throw Unused() }
    func spaceListings(ofSchool school: UUID) async throws -> [SpaceDirectory.Entry] { throw Unused() }
    func people(visibleTo school: UUID) async throws -> (schools: [PeopleDirectory.School], people: [PeopleDirectory.Person]) {
        throw Unused()
    }
    func tokens(ofMember member: UUID) async throws -> [TokenListing] { throw Unused() }
    func legacyVectors(of spaces: [SpaceID]) async throws -> [SpaceID: VersionVector] { throw Unused() }
    func setRetentionPolicy(_ record: RetentionPolicyRecord) async throws { throw Unused() }
    func retentionPolicies() async throws -> [RetentionPolicyRecord] { throw Unused() }
    func personalSpace(of member: UUID) async throws -> SpaceID { throw Unused() }
    func personalSpaces() async throws -> [UUID: SpaceID] { throw Unused() }
    func serverKeys(creatingIfAbsent candidate: ServerKeyRecord) async throws -> [ServerKeyRecord] { throw Unused() }
    func rotateServerKey(from previous: [UInt8], to new: ServerKeyRecord) async throws { throw Unused() }
    func registerDevice(_ device: DeviceRecord) async throws -> DeviceRegistrationOutcome { throw Unused() }
    func devices() async throws -> [DeviceListing] { throw Unused() }
    func deviceCertificates(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data] { throw Unused() }
    func deviceRevocations(of replicas: [ReplicaID]) async throws -> [ReplicaID: Data] { throw Unused() }
    func revokeToken(
        id: UUID, at time: Int64, certify: @Sendable (DeviceRevocationRecord) throws -> Data
    ) async throws -> TokenRevocationResult? { throw Unused() }
    func revokedCounters(of replica: ReplicaID) async throws -> [SpaceID: UInt64] { throw Unused() }
}
