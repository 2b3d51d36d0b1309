import ArgumentParser
import DialogueModel
import DialogueServer
import Foundation

/// `dialogue-server admin` commands of docs/TRUST.md: revoking a token (and its devices),
/// listing devices, showing and rotating the server's key.
extension Admin {
    struct RevokeToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a device token by its id, and the devices registered with it.",
            discussion: """
                Each device registered with the token is revoked: the server records, per space, the last
                counter it holds from the device (its changes up to there stay valid, later ones are refused)
                and signs that revocation with its key.
                """)
        @Option(name: .customLong("token-id"), help: "The token's id (printed by issue-token and list-tokens).") var tokenID: UUID
        @OptionGroup var common: Common

        struct Revoked: Encodable {
            var revoked: UUID
            var devices: [DeviceRevocation]
        }

        func run() async throws {
            let result = try await Admin.withStore(common) { try await ServerAuthority(store: $0).revokeToken(id: tokenID) }
            guard let result else { throw NotFound("no active token \(tokenID)") }
            var lines = ["revoked token \(tokenID)"]
            if result.revocations.isEmpty { lines.append("no device was registered with it") }
            for revocation in result.revocations {
                let counters = revocation.lastCounters.sorted { $0.key < $1.key }.map { "space \($0.key) up to counter \($0.value)" }
                lines.append(
                    "revoked device \(revocation.replica): "
                        + (counters.isEmpty ? "nothing of it was held (every later change refused)" : counters.joined(separator: ", ")))
            }
            try Admin.printResult(common.json, Revoked(revoked: tokenID, devices: result.revocations), lines.joined(separator: "\n"))
        }
    }

    struct ListTokens: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List device tokens (never the tokens themselves): id, label, member, issued, revoked.")
        @Option(help: "Only this member's tokens.") var member: UUID?
        @Flag(help: "Only tokens not revoked.") var active = false
        @OptionGroup var common: Common

        struct Listed: Encodable {
            var id: UUID
            var label: String
            var member: UUID
            var memberName: String
            /// Milliseconds since 1970.
            var issuedAt: Int64
            /// Milliseconds since 1970; absent while the token is valid.
            var revokedAt: Int64?
        }

        func run() async throws {
            let listed = try await Admin.withStore(common) { store in
                let members = try await store.members()
                if let member, !members.contains(where: { $0.id == member }) { throw NotFound("member \(member) does not exist") }
                var listed: [Listed] = []
                for account in members where member == nil || account.id == member {
                    for token in try await store.tokens(ofMember: account.id) where !active || token.revokedAt == nil {
                        listed.append(
                            Listed(
                                id: token.id, label: token.label, member: account.id, memberName: account.name, issuedAt: token.issuedAt,
                                revokedAt: token.revokedAt))
                    }
                }
                return listed.sorted { ($0.issuedAt, $0.id.uuidString) < ($1.issuedAt, $1.id.uuidString) }
            }
            let lines = listed.map { token in
                "token \(token.id)  \(token.label)  member \(token.member) \(token.memberName)  issued \(Admin.time(token.issuedAt))  "
                    + (token.revokedAt.map { "revoked \(Admin.time($0))" } ?? "active")
            }
            try Admin.printResult(common.json, listed, lines.isEmpty ? "(no tokens)" : lines.joined(separator: "\n"))
        }
    }

    struct RevokeTokens: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke every active token of a member, and the devices registered with them (their access ends).")
        @Option(help: "The member whose tokens to revoke.") var member: UUID
        @OptionGroup var common: Common

        struct Revoked: Encodable {
            var member: UUID
            var tokens: [UUID]
            var devices: [DeviceRevocation]
        }

        func run() async throws {
            let revoked = try await Admin.withStore(common) { store in
                guard try await store.members().contains(where: { $0.id == member }) else {
                    throw NotFound("member \(member) does not exist")
                }
                let authority = ServerAuthority(store: store)
                var revoked = Revoked(member: member, tokens: [], devices: [])
                for token in try await store.tokens(ofMember: member) where token.revokedAt == nil {
                    // Revoked meanwhile by another admin: nothing left to do for it.
                    guard let result = try await authority.revokeToken(id: token.id) else { continue }
                    revoked.tokens.append(token.id)
                    revoked.devices += result.revocations
                }
                return revoked
            }
            let text =
                revoked.tokens.isEmpty
                ? "member \(member) has no active token; nothing revoked"
                : "revoked \(revoked.tokens.count) token(s) and \(revoked.devices.count) device(s) of member \(member)"
            try Admin.printResult(common.json, revoked, text)
        }
    }

    struct ListDevices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered devices (replicas and their keys).")
        @OptionGroup var common: Common

        struct Device: Encodable {
            var replica: ReplicaID
            var fingerprint: String
            var member: UUID
            var memberName: String
            var tokenLabel: String
            /// Milliseconds since 1970.
            var registeredAt: Int64
            var revokedAt: Int64?
        }

        func run() async throws {
            let devices = try await Admin.withStore(common) { try await $0.devices() }.map { listing in
                Device(
                    replica: listing.device.replica, fingerprint: Admin.fingerprint(listing.device.publicKey),
                    member: listing.device.member,
                    memberName: listing.memberName, tokenLabel: listing.tokenLabel, registeredAt: listing.device.registeredAt,
                    revokedAt: listing.device.revokedAt)
            }
            let lines = devices.map { device in
                "device \(device.replica)  \(device.fingerprint)  member \(device.member) (\(device.memberName))  token '\(device.tokenLabel)'"
                    + "  registered \(Admin.time(device.registeredAt))" + (device.revokedAt.map { "  revoked \(Admin.time($0))" } ?? "")
            }
            try Admin.printResult(common.json, devices, lines.isEmpty ? "(no device registered yet)" : lines.joined(separator: "\n"))
        }
    }

    struct ServerKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the fingerprint of the server's key (what `login` prints; read it out to users who check).")
        @OptionGroup var common: Common

        struct Key: Encodable {
            var fingerprint: String
            var publicKey: String
            var generation: Int64
            /// Milliseconds since 1970.
            var createdAt: Int64
            var retired: [String]
        }

        func run() async throws {
            let keys = try await Admin.withStore(common) { try await ServerAuthority(store: $0).keys() }
            let current = keys.records[keys.records.count - 1]
            let key = Key(
                fingerprint: keys.current.publicKey.fingerprint, publicKey: keys.current.publicKey.base64, generation: current.generation,
                createdAt: current.createdAt, retired: keys.records.dropLast().map { Admin.fingerprint($0.publicKey) })
            var text = keys.current.publicKey.fingerprint
            if !key.retired.isEmpty {
                text += "\n(key \(key.generation), since \(Admin.time(key.createdAt)); retired: \(key.retired.joined(separator: ", ")))"
            }
            try Admin.printResult(common.json, key, text)
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new server key, endorsed by the current one, which is retired.",
            discussion: """
                Certificates the old key signed stay valid; replicas pinned to it follow the endorsement to the
                new key at their next login or sync. Running server processes sign with the new key from their
                next registration on (they read the key from the store each time): no restart is needed.
                """)
        @OptionGroup var common: Common

        struct Rotated: Encodable {
            var previous: String
            var current: String
            var endorsement: ServerKeyEndorsement
        }

        func run() async throws {
            let endorsement = try await Admin.withStore(common) { store in
                do { return try await ServerAuthority(store: store).rotateKey() } catch StoreError.conflict {
                    throw ValidationError("another rotation happened at the same time; nothing changed here (see admin server-key)")
                }
            }
            try Admin.printResult(
                common.json,
                Rotated(previous: endorsement.previousKey.fingerprint, current: endorsement.newKey.fingerprint, endorsement: endorsement),
                """
                retired key \(endorsement.previousKey.fingerprint) (kept: what it signed stays valid)
                new key     \(endorsement.newKey.fingerprint)
                Running servers sign with the new key from their next registration; no restart needed.
                """)
        }
    }

    /// A stored public key's fingerprint (`SHA256:…`).
    static func fingerprint(_ key: [UInt8]) -> String {
        PublicSigningKey(rawRepresentation: key)?.fingerprint ?? "(damaged key)"
    }

    /// Milliseconds since 1970 as ISO 8601 (UTC).
    static func time(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }
}
