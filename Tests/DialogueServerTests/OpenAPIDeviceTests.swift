import DialogueModel
import DialogueServer
import DialogueSync
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// openapi.yaml and `POST /v1/devices` agree.
@Suite("OpenAPI document: /v1/devices")
struct OpenAPIDeviceTests {
    /// Property names of a schema under `components/schemas` (its own, at the first level).
    static func properties(_ yaml: String, schema: String) -> Set<String> {
        let lines = yaml.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "    \(schema):") else { return [] }
        var names: Set<String> = []
        var inProperties = false
        for line in lines[(start + 1)...] {
            let indent = line.prefix { $0 == " " }.count
            if !line.isEmpty, indent <= 4 { break }
            if indent == 6 { inProperties = line.trimmingCharacters(in: .whitespaces) == "properties:" }
            if inProperties, indent == 8, let key = line.trimmingCharacters(in: .whitespaces).components(separatedBy: ":").first {
                names.insert(key)
            }
        }
        return names
    }

    @Test("the request example registers a device; every property of the answer is documented")
    func exampleAndSchemas() async throws {
        try await withRouteHarness { h in
            let yaml = try await OpenAPITests.document(h)
            let example = try #require(try OpenAPITests.requestExample(yaml, path: "/v1/devices"), "no example under /v1/devices")
            let body = try JSONSerialization.data(withJSONObject: example, options: [.sortedKeys])
            let response = try await h.client.execute(
                uri: "/v1/devices", method: .post,
                headers: [.authorization: "Bearer \(h.accounts.tokens["hill-member"]!)", .contentType: "application/json"],
                body: ByteBuffer(bytes: body))
            #expect(response.status == .ok, "\(response.text)")
            let answer = try response.decoded(DeviceRegistrationResponse.self)
            #expect(answer.certificate.replica == ReplicaID("00000000000000a1"))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(response.bytes)) as? [String: Any])
            var checks: [(String, Set<String>)] = [("DeviceRegistrationResponse", Set(object.keys))]
            for (key, schema) in [("certificate", "DeviceCertificate"), ("directory", "SpaceDirectory")] {
                checks.append((schema, Set(((object[key] as? [String: Any]) ?? [:]).keys)))
            }
            let request = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            checks.append(("DeviceRegistrationRequest", Set(request.keys)))
            for (schema, sent) in checks {
                let documented = Self.properties(yaml, schema: schema)
                #expect(!sent.isEmpty && sent == documented, "\(schema): sent \(sent.sorted()), documented \(documented.sorted())")
            }
            // A rotation's endorsement carries exactly the documented properties too.
            let endorsement = try await ServerAuthority(store: h.store).rotateKey()
            let endorsementObject = try #require(
                try JSONSerialization.jsonObject(with: Data(try encodeJSON(endorsement))) as? [String: Any])
            #expect(Set(endorsementObject.keys) == Self.properties(yaml, schema: "ServerKeyEndorsement"))
        }
    }
}
