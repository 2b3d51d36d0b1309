import DialogueModel

extension Replica {
    /// Pins `ring` and stores this device's certificate and space directory as a first
    /// `login` would, with no server: for the benchmark and the fuzz targets, which play a
    /// server with a key of their own. Verified as a login's answer is (``adopt(_:)``).
    package func adoptOfflineLogin(ring: ServerKeyRing, certificate: DeviceCertificate, directory: SpaceDirectory) throws(ReplicaError) {
        try adopt(VerifiedRegistration(ring: ring, certificate: certificate, directory: directory, startsNewPin: true))
    }
}
