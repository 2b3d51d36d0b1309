import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A sync server's URL, checked before a device token is sent to it: `https://`, or
/// `http://` to this machine (loopback), or `http://` anywhere when the user said so.
public struct ServerAddress: Sendable, Equatable {
    /// The URL as given (validated).
    public let url: URL
    /// Where the token may be sent: nowhere else.
    public let origin: Origin

    /// Checks `text`.
    ///
    /// - Parameters:
    ///   - text: the server's address as a person typed it.
    ///   - allowInsecureHTTP: accept `http://` to a host that is not loopback
    ///     (the token and the notes then cross the network in clear).
    public init(_ text: String, allowInsecureHTTP: Bool) throws(SyncClientError) {
        guard let url = URL(string: text) else { throw .invalidServer("'\(text)' is not a URL") }
        try self.init(url, allowInsecureHTTP: allowInsecureHTTP)
    }

    /// Checks `url`.
    public init(_ url: URL, allowInsecureHTTP: Bool) throws(SyncClientError) {
        let text = url.absoluteString
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme)
        else { throw .invalidServer("'\(text)' is not an http:// or https:// URL") }
        guard let host = components.host, !host.isEmpty else { throw .invalidServer("'\(text)' names no host") }
        if let port = components.port, !(1...65535).contains(port) {
            throw .invalidServer("the port in '\(text)' must be between 1 and 65535")
        }
        guard components.user == nil, components.password == nil else {
            throw .invalidServer("'\(text)' carries a user name or password; give only the server's address (the token is the credential)")
        }
        guard components.query == nil, components.fragment == nil else {
            throw .invalidServer("'\(text)' has a query or fragment; give only the server's address")
        }
        if scheme == "http", !allowInsecureHTTP, !Self.isLoopback(host) {
            throw .insecureServer(
                "\(text) is plain http:// to another machine: the token and the notes would cross the network unencrypted; "
                    + "use https://, or pass --allow-insecure-http if this network is trusted")
        }
        self.url = url
        self.origin = Origin(scheme: scheme, host: Origin.normalized(host), port: components.port ?? (scheme == "https" ? 443 : 80))
    }

    /// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1 (also as an
    /// IPv4-mapped address). Names other than `localhost` are not resolved.
    public static func isLoopback(_ host: String) -> Bool {
        let host = Origin.normalized(host)
        if host == "localhost" || host == "localhost." { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes == [UInt8](repeating: 0, count: 15) + [1] { return true }  // ::1
        // ::ffff:127.x.y.z
        return bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
    }

    /// Scheme, host and port: the token goes to one origin only (a redirect elsewhere is refused).
    public struct Origin: Sendable, Hashable, CustomStringConvertible {
        public var scheme: String
        public var host: String
        public var port: Int

        /// The origin of `url`, or `nil` when it has no http(s) scheme or host.
        public init?(_ url: URL) {
            guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
                let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
                let host = components.host, !host.isEmpty
            else { return nil }
            self.init(scheme: scheme, host: Self.normalized(host), port: components.port ?? (scheme == "https" ? 443 : 80))
        }

        init(scheme: String, host: String, port: Int) {
            self.scheme = scheme
            self.host = host
            self.port = port
        }

        public var description: String {
            "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }

        /// Lower case, without the brackets of an IPv6 literal.
        static func normalized(_ host: String) -> String {
            var host = host.lowercased()
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return host
        }
    }
}
