import DialogueFuzzTargets
import Foundation
import Testing

/// Replays what the fuzzers keep through the very entry points `dialogue-fuzz` runs: every
/// crasher they found (`Fixtures/fuzz-crashers/<target>/`, one regression each) and the
/// committed corpus (`Tests/FuzzCorpus/<target>/`). A crash here stops the test process;
/// a broken oracle fails the test naming the file.
@Suite struct FuzzReplayTests {
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    static func files(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
    }

    static func crashers(_ target: FuzzTarget) -> [URL] {
        files(in: testsFolder.appendingPathComponent("DialogueFuzzTests/Fixtures/fuzz-crashers/\(target.rawValue)"))
    }

    static func corpus(_ target: FuzzTarget) -> [URL] {
        files(in: testsFolder.appendingPathComponent("FuzzCorpus/\(target.rawValue)"))
    }

    @Test(arguments: FuzzTarget.allCases)
    func crashersFoundByTheFuzzerNoLongerCrash(_ target: FuzzTarget) async throws {
        for file in Self.crashers(target) {
            let bytes = [UInt8](try Data(contentsOf: file))
            do throws(FuzzFinding) {
                try await target.run(bytes)
            } catch {
                Issue.record("\(file.lastPathComponent): \(error)")
            }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func theCommittedCorpusReplaysCleanly(_ target: FuzzTarget) async throws {
        let files = Self.corpus(target)
        #expect(!files.isEmpty, "Tests/FuzzCorpus/\(target.rawValue) holds no seeds")
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: file))
            do throws(FuzzFinding) {
                try await target.run(bytes)
            } catch {
                Issue.record("\(file.lastPathComponent): \(error)")
            }
        }
    }

    /// The seeds are what the project's encoders write today: the committed ones must
    /// still be among them, so the corpus starts where real inputs are.
    @Test(arguments: FuzzTarget.allCases)
    func theCommittedSeedsAreWhatTheEncodersWriteToday(_ target: FuzzTarget) async throws {
        let folder = Self.testsFolder.appendingPathComponent("FuzzCorpus/\(target.rawValue)")
        for seed in try await target.seeds() {
            let committed = try? Data(contentsOf: folder.appendingPathComponent("seed-\(seed.name)"))
            #expect(
                committed.map([UInt8].init) == seed.bytes,
                "seed-\(seed.name) is missing or stale: scripts/fuzz \(target.rawValue) --write-seeds")
        }
    }
}
