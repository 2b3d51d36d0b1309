import ArgumentParser
import DialogueModel
import DialogueSync
import Foundation

/// `whoami`: who this device writes as, as its certificate says, and which server it syncs with.
struct WhoAmI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami", abstract: "Show the member and school this device writes as, the device, and its server.")

    @OptionGroup var global: GlobalOptions

    struct Result: Encodable {
        /// As `status` shows it: `id`, `name`, `school`, `schoolName`.
        var member: Status.Member
        /// This device's replica id.
        var device: String
        /// Its signing key's fingerprint.
        var deviceKey: String
        /// The server it logged in to.
        var server: String
    }

    func run() async throws {
        try await runReporting(json: global.json) {
            let replica = try global.openReplica()
            guard let certificate = try replica.deviceCertificate() else {
                throw ClientError.notFound("this device has not logged in yet; run `dialogue-client login --server URL --token-file PATH`")
            }
            let result = Result(
                member: Status.Member(
                    id: EntityID(certificate.member), name: certificate.memberName, school: EntityID(certificate.school),
                    schoolName: certificate.schoolName),
                device: certificate.replica.description, deviceKey: certificate.publicKey.fingerprint,
                server: try LoginConfig.load(global.configPath).server)
            try global.emit(
                result,
                """
                member \(Terminal.line(result.member.name)) (\(result.member.id))
                school \(Terminal.line(result.member.schoolName)) (\(result.member.school))
                device \(result.device) (key \(result.deviceKey))
                server \(Terminal.line(result.server))
                """)
        }
    }
}
