import DialogueModel
import DialogueTestSupport
import Foundation

// dialogue-bench: measures Dialogue's CRDT core on editing traces. Not a test: it prints figures.
let usage = """
    usage: dialogue-bench trace PATH [--json] [--runs N]
           dialogue-bench replica [--json] [--edits N] [--changes N] [--trace PATH | --no-trace]
           dialogue-bench server [--json] [--database postgres://…] [--cold N] [--clients N] [--seconds N]
      Replays an editing trace (editing-traces format, sequential or concurrent, .json or .json.gz),
      verifies the final text against endContent (exit 1 on a mismatch), and prints local-edit and
      merge rates, peak memory and the encoded size of all changes.
      `replica` measures the SQLite replica: N local field edits in batches of 100 (default 100000)
      and a merge of N remote changes from a bundle (default 1000000), each against raw SQLite
      doing the equivalent inserts, and a trace typed into an insight (default seph-blog1).
      `server` runs the sync server in-process on 127.0.0.1 (SQLite, or PostgreSQL with --database):
      a cold sync of N changes into an empty replica (default 100000), then N concurrent clients
      (default 100) pushing and pulling small batches for N seconds (default 30).

    """

func fail(_ message: String, code: Int32 = 64) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "server" {
    arguments.removeFirst()
    var json = false
    var database: String?
    var cold = 100_000
    var clients = 100
    var seconds = 30.0
    while !arguments.isEmpty {
        let argument = arguments.removeFirst()
        switch argument {
        case "--json": json = true
        case "--database":
            guard let value = arguments.first else { fail("--database needs a postgres:// URL") }
            arguments.removeFirst()
            database = value
        case "--cold", "--clients", "--seconds":
            guard let value = arguments.first.flatMap(Int.init), value > 0 else { fail("\(argument) needs a positive number") }
            arguments.removeFirst()
            switch argument {
            case "--cold": cold = value
            case "--clients": clients = value
            default: seconds = Double(value)
            }
        default: fail(usage)
        }
    }
    do {
        let report = try await ServerBenchmark.run(database: database, coldChanges: cold, clients: clients, seconds: seconds)
        print(json ? report.json : report.table)
        exit(report.errors == 0 ? 0 : 1)
    } catch {
        fail("dialogue-bench: \(error)", code: 1)
    }
}
if arguments.first == "replica" {
    arguments.removeFirst()
    var json = false
    var edits = 100_000
    var changes = 1_000_000
    var trace: String? = EditingTrace.sharedTracesDirectory().appendingPathComponent("seph-blog1.json.gz").path
    while !arguments.isEmpty {
        let argument = arguments.removeFirst()
        switch argument {
        case "--json": json = true
        case "--edits", "--changes":
            guard let value = arguments.first.flatMap(Int.init), value > 0 else { fail("\(argument) needs a positive number") }
            arguments.removeFirst()
            if argument == "--edits" { edits = value } else { changes = value }
        case "--no-trace": trace = nil
        case "--trace":
            guard let value = arguments.first else { fail("--trace needs a path") }
            arguments.removeFirst()
            trace = value
        default: fail(usage)
        }
    }
    do {
        let report = try await ReplicaBenchmark.run(edits: edits, merges: changes, tracePath: trace)
        print(json ? report.json : report.table)
        exit(report.traceVerified || trace == nil ? 0 : 1)
    } catch {
        fail("dialogue-bench: \(error)", code: 1)
    }
}
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
