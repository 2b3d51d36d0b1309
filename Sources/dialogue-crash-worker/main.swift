// dialogue-crash-worker: exists ONLY for the crash test (Tests/DialogueSyncTests/ReplicaCrashTests.swift).
// It is not a user tool. It opens a replica and, for ever, makes local edits and imports
// bundles, printing one acknowledgement line after each call has returned; the test kills
// it with SIGKILL at random moments and then checks that every acknowledged call survived.
//
// usage: dialogue-crash-worker REPLICA_PATH SPACE_UUID SEED BUNDLE_DIR
//
// Output (stdout, one line per completed call, flushed at once):
//   ack edit <title|type|status> <replica@counter of the last counter written>
//   ack merge <bundle file name>

import DialogueModel
import DialogueSync
import Foundation

func fail(_ message: String, code: Int32 = 64) -> Never {
    FileHandle.standardError.write(Data("dialogue-crash-worker: \(message)\n".utf8))
    exit(code)
}

func emit(_ line: String) {
    // One write(2) of a short line: atomic on a pipe, and out of the process at once.
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// SplitMix64 (as DialogueTestSupport's), repeated here so the worker links only DialogueSync.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 5 else {
    fail("usage: dialogue-crash-worker REPLICA_PATH SPACE_UUID SEED BUNDLE_DIR (exists only for the crash test)")
}
guard let uuid = UUID(uuidString: arguments[2]) else { fail("'\(arguments[2])' is not a UUID") }
guard let seed = UInt64(arguments[3]) else { fail("'\(arguments[3])' is not an unsigned integer seed") }
let space = SpaceID(uuid)
let bundleDirectory = URL(fileURLWithPath: arguments[4], isDirectory: true)
let bundles: [URL]
do {
    bundles = try FileManager.default.contentsOfDirectory(at: bundleDirectory, includingPropertiesForKeys: nil)
        .filter { $0.pathExtension == "dlgb" }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
} catch {
    fail("cannot list bundle directory \(bundleDirectory.path): \(error)")
}

let replica: Replica
do {
    replica = try Replica(path: arguments[1])
    try await replica.addSpace(space)
} catch {
    fail("cannot open replica at \(arguments[1]): \(error)")
}

var random = SeededGenerator(state: seed)
let alphabet = Array("abcdefghijklmnopqrstuvwxyz ,.")
var created = 0

/// The last dot a batch of changes occupies.
@Sendable func lastDot(_ editor: SpaceEditor) -> Dot? {
    editor.changes.last.map { Dot($0.replica, $0.lastCounter) }
}

// The test kills the worker; should the test process die first, the worker must not run on
// for ever (orphans loaded the CI machine): it stops when its parent changes.
let parent = getppid()

while getppid() == parent {
    do {
        let roll = Int.random(in: 0..<100, using: &random)
        if roll < 15, !bundles.isEmpty {
            let bundle = bundles[Int.random(in: 0..<bundles.count, using: &random)]
            try await replica.importBundle(from: bundle)
            emit("ack merge \(bundle.lastPathComponent)")
            continue
        }
        // Random choices are drawn here: the edit closure is @Sendable and cannot hold the generator.
        let pick = Int.random(in: 0..<1_000_000, using: &random)
        let position = Double.random(in: 0...1, using: &random)
        let burst = String((0..<Int.random(in: 1...24, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
        let status = SessionStatus.allCases[Int.random(in: 0..<SessionStatus.allCases.count, using: &random)]
        let hasSessions = !(await replica.document(space)?.sessions.isEmpty ?? true)
        if roll < 45 || !hasSessions {
            created += 1
            let title = "t-\(seed)-\(created)"
            let dot = try await replica.edit(in: space) { editor in
                try editor.createSession(title: title)
                return lastDot(editor)
            }
            emit("ack edit \(title) \(dot.map(\.description) ?? "-")")
        } else if roll < 85 {
            let dot = try await replica.edit(in: space) { editor in
                let sessions = editor.document.sessions
                let session = sessions[pick % sessions.count].id
                var offset = Int(position * Double(editor.document.text(DialogueSession.Field.summary, of: session).unicodeScalars.count))
                for character in burst {
                    try editor.editText(DialogueSession.Field.summary, of: session, at: offset, insert: String(character))
                    offset += 1
                }
                return lastDot(editor)
            }
            emit("ack edit type \(dot.map(\.description) ?? "-")")
        } else {
            let dot = try await replica.edit(in: space) { editor in
                let sessions = editor.document.sessions
                let session = sessions[pick % sessions.count]
                let next = session.status == status ? SessionStatus.allCases.first { $0 != status }! : status
                try editor.set(DialogueSession.Field.status, of: session.id, to: .string(next.rawValue))
                return lastDot(editor)
            }
            emit("ack edit status \(dot.map(\.description) ?? "-")")
        }
    } catch {
        fail("operation failed: \(error)", code: 70)
    }
}
