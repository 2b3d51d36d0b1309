import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

extension SyncServer {
    /// The application serving ``router()`` on `host:port` with the limits at the door: a
    /// connection that sends no complete request part for `idleTimeout` is closed (silent,
    /// idle between requests, or trickling a request head), and at most `maxConnections`
    /// are open at once (more wait in the listen backlog until one closes). The body
    /// timeout is applied by the sync route, which reads the body.
    public func application(
        host: String, port: Int, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> Application<RouterResponder<DialogueRequestContext>> {
        let limits = service.limits
        let idle = TimeAmount.nanoseconds(Int64(limits.idleTimeout / .nanoseconds(1)))
        return Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: .init(
                address: .hostname(host, port: port), serverName: "dialogue-server",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
