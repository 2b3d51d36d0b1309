import DialogueFuzzTargets
import Foundation

// libFuzzer's entry points for every fuzz target (`scripts/fuzz` builds and runs this).
// DIALOGUE_FUZZ_TARGET names the target; with DIALOGUE_FUZZ_WRITE_SEEDS=<folder> the binary
// writes that target's seed inputs there and exits instead of fuzzing.

/// Set once by `LLVMFuzzerInitialize`, before libFuzzer calls anything else.
nonisolated(unsafe) private var selected = FuzzTarget.json

@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    let name = environment["DIALOGUE_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let known = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("dialogue-fuzz: set DIALOGUE_FUZZ_TARGET to one of: \(known)\n".utf8))
        exit(2)
    }
    selected = target
    if let folder = environment["DIALOGUE_FUZZ_WRITE_SEEDS"] {
        let done = DispatchSemaphore(value: 0)
        let outcome = SeedOutcome()
        Task.detached {
            do { try await target.writeSeeds(to: URL(fileURLWithPath: folder)) } catch { outcome.failure = error }
            done.signal()
        }
        done.wait()
        if let failure = outcome.failure {
            FileHandle.standardError.write(Data("dialogue-fuzz: cannot write seeds: \(failure)\n".utf8))
            exit(1)
        }
        exit(0)
    }
    return 0
}

/// Hands a seed-writing failure to the waiting thread (the semaphore orders the accesses).
private final class SeedOutcome: @unchecked Sendable {
    var failure: (any Error)?
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = count == 0 || start == nil ? [] : Array(UnsafeRawBufferPointer(start: start, count: count))
    if let finding = selected.runBlocking(bytes) {
        fatalError("dialogue-fuzz \(selected.rawValue): \(finding)")  // libFuzzer saves the input as a crasher
    }
    return 0
}

// SwiftPM links an executable's `main` to `<module>_main` (so tests can import
// executables); here that entry hands over to libFuzzer's driver, which then calls
// `LLVMFuzzerInitialize` and `LLVMFuzzerTestOneInput` as its own `main` would.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt

@_cdecl("dialogue_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments) { start, count in fuzz(start, count) }
}
