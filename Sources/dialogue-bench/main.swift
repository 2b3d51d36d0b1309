import DialogueModel
import DialogueTestSupport
import Foundation

// dialogue-bench: measures Dialogue's CRDT core on editing traces. Not a test: it prints figures.
let usage = """
    usage: dialogue-bench trace PATH [--json] [--runs N]
      Replays an editing trace (editing-traces format, sequential or concurrent, .json or .json.gz),
      verifies the final text against endContent (exit 1 on a mismatch), and prints local-edit and
      merge rates, peak memory and the encoded size of all changes.

    """

func fail(_ message: String, code: Int32 = 64) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.first == "trace", arguments.count >= 2 else { fail(usage) }
arguments.removeFirst()
var json = false
var runs = 5
var path: String?
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--json": json = true
    case "--runs":
        guard let value = arguments.first.flatMap(Int.init), value > 0 else { fail("--runs needs a positive number") }
        runs = value
        arguments.removeFirst()
    default:
        guard path == nil, !argument.hasPrefix("-") else { fail(usage) }
        path = argument
    }
}
guard let path else { fail(usage) }

do {
    let report = try TraceBenchmark.run(path: path, runs: runs)
    print(json ? report.json : report.table)
    if !report.verified { exit(1) }
} catch {
    fail("dialogue-bench: \(error)", code: 1)
}
