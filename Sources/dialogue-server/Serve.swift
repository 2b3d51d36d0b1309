import ArgumentParser
import DialogueModel
import DialogueServer
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus

/// `dialogue-server serve`: runs the HTTP service until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the sync API (the default).")

    @Option(help: "Address to listen on (env DIALOGUE_HOST).")
    var host: String = ProcessInfo.processInfo.environment["DIALOGUE_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on (env DIALOGUE_PORT).")
    var port: Int = ProcessInfo.processInfo.environment["DIALOGUE_PORT"].flatMap(Int.init) ?? 8080

    @Option(help: "trace, debug, info, notice, warning, error or critical (env DIALOGUE_LOG_LEVEL).")
    var logLevel: String = ProcessInfo.processInfo.environment["DIALOGUE_LOG_LEVEL"] ?? "info"

    @Option(help: "Largest request body in bytes, after gzip (env DIALOGUE_MAX_BODY_BYTES).")
    var maxBodyBytes: Int = ProcessInfo.processInfo.environment["DIALOGUE_MAX_BODY_BYTES"].flatMap(Int.init) ?? ServerLimits().maxBodyBytes

    @Option(help: "Most changes returned per space per response (env DIALOGUE_PAGE_SIZE).")
    var pageSize: Int = ProcessInfo.processInfo.environment["DIALOGUE_PAGE_SIZE"].flatMap(Int.init) ?? ServerLimits().pageSize

    @Option(help: "Most changes accepted in one request (env DIALOGUE_MAX_CHANGES).")
    var maxChanges: Int =
        ProcessInfo.processInfo.environment["DIALOGUE_MAX_CHANGES"].flatMap(Int.init) ?? ServerLimits().maxChangesPerRequest

    @Option(help: "Spaces whose merged state is kept in memory to check pushed changes (env DIALOGUE_CACHED_SPACES).")
    var cachedSpaces: Int =
        ProcessInfo.processInfo.environment["DIALOGUE_CACHED_SPACES"].flatMap(Int.init) ?? ServerLimits().documentCacheSpaces

    @Option(help: "Seconds a connection may send no complete request part (silent, idle, or a slow head) (env DIALOGUE_IDLE_TIMEOUT).")
    var idleTimeout: Int = Self.environment("DIALOGUE_IDLE_TIMEOUT") ?? Int(ServerLimits().idleTimeout.components.seconds)

    @Option(help: "Seconds a request body may take to arrive after its head (env DIALOGUE_BODY_TIMEOUT).")
    var bodyTimeout: Int = Self.environment("DIALOGUE_BODY_TIMEOUT") ?? Int(ServerLimits().bodyTimeout.components.seconds)

    @Option(help: "Most connections open at once; more wait until one closes (env DIALOGUE_MAX_CONNECTIONS).")
    var maxConnections: Int = Self.environment("DIALOGUE_MAX_CONNECTIONS") ?? ServerLimits().maxConnections

    @Option(help: "Failed authentications per minute from one address; 0 = no limit (env DIALOGUE_AUTH_FAILURES_PER_ADDRESS).")
    var authFailuresPerAddress: Int =
        Self.environment("DIALOGUE_AUTH_FAILURES_PER_ADDRESS") ?? ServerLimits().authFailuresPerAddress.events

    @Option(help: "Failed authentications per minute with one token; 0 = no limit (env DIALOGUE_AUTH_FAILURES_PER_TOKEN).")
    var authFailuresPerToken: Int = Self.environment("DIALOGUE_AUTH_FAILURES_PER_TOKEN") ?? ServerLimits().authFailuresPerToken.events

    @Option(help: "Pushes per minute by one token; 0 = no limit (env DIALOGUE_PUSHES_PER_TOKEN).")
    var pushesPerToken: Int = Self.environment("DIALOGUE_PUSHES_PER_TOKEN") ?? ServerLimits().pushesPerToken.events

    @Option(help: "Pushes per minute from one address; 0 = no limit (env DIALOGUE_PUSHES_PER_ADDRESS).")
    var pushesPerAddress: Int = Self.environment("DIALOGUE_PUSHES_PER_ADDRESS") ?? ServerLimits().pushesPerAddress.events

    @Option(help: "Token that GET /metrics requires as 'Authorization: Bearer …' (env DIALOGUE_METRICS_TOKEN); none: open.")
    var metricsToken: String?

    @OptionGroup var store: StoreOptions

    static func environment(_ name: String) -> Int? {
        ProcessInfo.processInfo.environment[name].flatMap(Int.init)
    }

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard maxBodyBytes > 0, pageSize > 0, maxChanges > 0, cachedSpaces > 0, idleTimeout > 0, bodyTimeout > 0, maxConnections > 0
        else { throw ValidationError("limits must be positive") }
        guard authFailuresPerAddress >= 0, authFailuresPerToken >= 0, pushesPerToken >= 0, pushesPerAddress >= 0 else {
            throw ValidationError("rate limits must be 0 (off) or positive")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "dialogue.server")
        let store = try await store.open(logger: logger)
        var limits = ServerLimits()
        limits.maxBodyBytes = maxBodyBytes
        limits.pageSize = pageSize
        limits.maxChangesPerRequest = maxChanges
        limits.documentCacheSpaces = cachedSpaces
        limits.idleTimeout = .seconds(idleTimeout)
        limits.bodyTimeout = .seconds(bodyTimeout)
        limits.maxConnections = maxConnections
        limits.authFailuresPerAddress = RateLimit(perMinute: authFailuresPerAddress)
        limits.authFailuresPerToken = RateLimit(perMinute: authFailuresPerToken)
        limits.pushesPerToken = RateLimit(perMinute: pushesPerToken)
        limits.pushesPerAddress = RateLimit(perMinute: pushesPerAddress)
        // Read here rather than as the option's default, so --help never shows the token.
        let metricsToken = metricsToken ?? ProcessInfo.processInfo.environment["DIALOGUE_METRICS_TOKEN"]
        let server = SyncServer(
            service: SyncService(store: store, limits: limits, logger: logger), metrics: registry, logger: logger,
            metricsToken: metricsToken)
        if try await store.partnerships().isEmpty {
            logger.notice(
                """
                No partnership yet. Create one, a school, a member and a device token with:
                  dialogue-server admin create-partnership --name "North Partnership"
                  dialogue-server admin create-school --name "Hill Primary" --partnership <partnership id>
                  dialogue-server admin create-member --name "Ada Leader" --school <school id>
                  dialogue-server admin issue-token --member <member id>
                (pass the same --data-dir or --database as the server)
                """)
        }
        let keys = try await ServerAuthority(store: store).keys()
        logger.notice(
            "server key", metadata: ["fingerprint": "\(keys.current.publicKey.fingerprint)", "generation": "\(keys.records.count)"])
        let app = server.application(host: host, port: port)
        logger.info("listening", metadata: ["address": "http://\(host):\(port)"])
        try await app.runService()
        // In-flight requests have finished (graceful shutdown); now close the store.
        try await store.close()
        logger.info("stopped")
    }
}

extension Logger.Level {
    static var allCases: [Logger.Level] { [.trace, .debug, .info, .notice, .warning, .error, .critical] }
}
