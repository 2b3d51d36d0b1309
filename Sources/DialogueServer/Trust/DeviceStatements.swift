import DialogueModel
import DialogueSync
import Foundation
import Synchronization

/// Device certificates and revocations, decoded once rather than from their stored JSON on
/// every push and every answer (docs/TRUST.md, "Costs").
///
/// - Certificates are kept in memory (at most `capacity`, an arbitrary one dropped beyond
///   it). A certificate never stops vouching for its device's key except by revocation (a
///   replica id stays bound to one key and one member, and certificates signed by a retired
///   server key stay valid), so a kept one is never a wrong answer. A device not yet
///   registered is never remembered as absent: the store is asked again next time.
/// - Revocations are read from the store at every use (one indexed read per device, which
///   finds nothing for a device that was never revoked), so a revocation takes effect at the
///   next request, whichever process or `dialogue-server admin revoke-token` made it. Only
///   their decoding is kept, keyed by the stored bytes.
final class DeviceStatements: Sendable {
    private struct State {
        var certificates: [ReplicaID: DeviceCertificate] = [:]
        var revocations: [ReplicaID: (json: Data, statement: DeviceRevocation)] = [:]
        var certificateReads = 0
        var certificatesSent = 0
        var verifier: ChainVerifier?
        var verifierUses = 0
        var directories: [UUID: SpaceDirectory] = [:]
        /// The server's own device and its certificate, once asked for (see ``ServerDevice``).
        var serverDevice: (replica: ReplicaID, certificate: DeviceCertificate)?
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    /// How many certificates were read and decoded from the store so far (for tests).
    var certificateReads: Int { state.withLock { $0.certificateReads } }

    /// How many certificates sync answers carried so far (for tests and the benchmark).
    var certificatesSent: Int { state.withLock { $0.certificatesSent } }

    func recordSent(_ count: Int) {
        guard count > 0 else { return }
        state.withLock { $0.certificatesSent += count }
    }

    /// The latest certificates of those of `replicas` that are registered.
    func certificates(of replicas: some Collection<ReplicaID>, store: any SyncStore) async throws -> [ReplicaID: DeviceCertificate] {
        var found: [ReplicaID: DeviceCertificate] = [:]
        let missing: [ReplicaID] = state.withLock { state in
            var missing: [ReplicaID] = []
            for replica in replicas {
                if let certificate = state.certificates[replica] { found[replica] = certificate } else { missing.append(replica) }
            }
            return missing
        }
        guard !missing.isEmpty else { return found }
        var read: [ReplicaID: DeviceCertificate] = [:]
        for (replica, json) in try await store.deviceCertificates(of: missing) {
            read[replica] = try JSONDecoder().decode(DeviceCertificate.self, from: json)
        }
        if read.count < missing.count {
            // Not registered: the server's own device (retention's erasures), or unknown.
            let server = try await serverDevice(store: store)
            if missing.contains(server.replica), read[server.replica] == nil { read[server.replica] = server.certificate }
        }
        state.withLock { state in
            state.certificateReads += read.count
            for (replica, certificate) in read {
                if state.certificates.count >= capacity, state.certificates[replica] == nil {
                    state.certificates.remove(at: state.certificates.startIndex)
                }
                state.certificates[replica] = certificate
            }
        }
        return found.merging(read) { $1 }
    }

    /// The server's own device's replica and certificate (derived from the store's keys once).
    func serverDevice(store: any SyncStore) async throws -> (replica: ReplicaID, certificate: DeviceCertificate) {
        if let known = state.withLock({ $0.serverDevice }) { return known }
        let keys = try await ServerAuthority(store: store).keys()
        let device = try ServerDevice(keys: keys.records)
        let entry = (device.replica, device.certificate(signedBy: keys.current))
        state.withLock { $0.serverDevice = entry }
        return entry
    }

    /// The signed revocations of those of `replicas` that are revoked, as the store holds
    /// them now.
    func revocations(of replicas: some Collection<ReplicaID>, store: any SyncStore) async throws -> [ReplicaID: DeviceRevocation] {
        guard !replicas.isEmpty else { return [:] }
        let stored = try await store.deviceRevocations(of: Array(replicas))
        guard !stored.isEmpty else { return [:] }
        var revocations: [ReplicaID: DeviceRevocation] = [:]
        var decoded: [ReplicaID: (json: Data, statement: DeviceRevocation)] = [:]
        let known = state.withLock { state in stored.keys.compactMap { replica in state.revocations[replica].map { (replica, $0) } } }
        let cached = Dictionary(uniqueKeysWithValues: known)
        for (replica, json) in stored {
            if let entry = cached[replica], entry.json == json {
                revocations[replica] = entry.statement
            } else {
                let statement = try JSONDecoder().decode(DeviceRevocation.self, from: json)
                revocations[replica] = statement
                decoded[replica] = (json, statement)
            }
        }
        if !decoded.isEmpty {
            state.withLock { state in
                for (replica, entry) in decoded {
                    if state.revocations.count >= capacity, state.revocations[replica] == nil {
                        state.revocations.remove(at: state.revocations.startIndex)
                    }
                    state.revocations[replica] = entry
                }
            }
        }
        return revocations
    }

    // MARK: What a push or an answer would otherwise check or sign again

    /// A verifier for `ring` that remembers the certificates and revocations it checked
    /// before (each signature checked once, not once per push); a fresh one when the
    /// server's keys changed. Revocations are still passed to it fresh from the store.
    func verifier(for ring: ServerKeyRing) -> ChainVerifier {
        state.withLock { state in
            if let kept = state.verifier, kept.ring == ring { return kept }
            return ChainVerifier(ring: ring)
        }
    }

    /// Keeps `verifier` for the next push; every `capacity`-th push starts a fresh one, so
    /// what it remembers stays bounded.
    func keep(_ verifier: ChainVerifier) {
        state.withLock { state in
            state.verifierUses += 1
            if state.verifierUses >= capacity {
                state.verifierUses = 0
                state.verifier = nil
            } else {
                state.verifier = verifier
            }
        }
    }

    /// The directory signed earlier for `member` if it lists exactly `entries`, was signed
    /// by `signer` and is younger than an hour at `now` (one Ed25519 signature less per
    /// answer); `nil` otherwise, and the caller signs a fresh one.
    func directory(for member: UUID, entries: [SpaceDirectory.Entry], signer: PublicSigningKey, now: Int64) -> SpaceDirectory? {
        state.withLock { state in
            guard let kept = state.directories[member], kept.signer == signer, now >= kept.issuedAt, now - kept.issuedAt < 3_600_000,
                kept.entries == entries.sorted(by: { $0.space < $1.space })
            else { return nil }
            return kept
        }
    }

    /// Keeps a signed directory for ``directory(for:entries:signer:now:)``.
    func keep(_ directory: SpaceDirectory) {
        state.withLock { state in
            if state.directories.count >= capacity, state.directories[directory.member] == nil {
                state.directories.remove(at: state.directories.startIndex)
            }
            state.directories[directory.member] = directory
        }
    }

    /// Forgets the certificate kept of `replica` (after this process registered it again:
    /// the renewed certificate is the one to send).
    func forget(_ replica: ReplicaID) {
        _ = state.withLock { $0.certificates.removeValue(forKey: replica) }
    }
}
