/// What `--version` prints, for the client and the server alike: the release, and the
/// versions of the formats that decide who can talk to whom.
public enum DialogueRelease {
    /// The release of this build.
    public static let version = "0.20.0"

    /// The release with the sync protocol's and the bundle format's versions, e.g.
    /// "0.20.0 (sync protocol 2, bundle format 2)".
    public static var description: String {
        "\(version) (sync protocol \(SyncProtocol.version), bundle format \(BundleFormat.version))"
    }
}
