import DialogueModel
import DialogueSync
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension LiveServer {
    /// A leader of `name`'s school ("hill" or "vale"), holding the partnership's shared
    /// space, logged in to this server (so it signs, verifies and knows its space directory).
    func loggedInLeader(_ name: String, in scratch: Scratch, replicaName: String? = nil) async throws -> Leader {
        let leader = Leader(replicaName ?? name, in: scratch)
        try await leader.ok(["init", "--space", sharedSpace])
        let tokenFile = scratch.path("\(replicaName ?? name).token")
        try tokens[name]!.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try await leader.ok(["login", "--server", url, "--token-file", tokenFile])
        return leader
    }

    /// Registers a device that exists only as a key (handcrafted changes) with `name`'s
    /// token (`POST /v1/devices`): the certificate the server signs for it.
    func registerDevice(_ replica: ReplicaID, key: PublicSigningKey, as name: String) async throws -> DeviceCertificate {
        var request = URLRequest(url: URL(string: "\(url)/v1/devices")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(tokens[name]!)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONEncoder().encode(DeviceRegistrationRequest(replica: replica, publicKey: key))
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw SetupFailure(description: "registering \(replica): \(String(decoding: data, as: UTF8.self))")
        }
        return try JSONDecoder().decode(DeviceRegistrationResponse.self, from: data).certificate
    }
}
