import Foundation

// dialogue-server-bench: measures the sync server. Not a test: it prints figures.
let usage = """
    usage: dialogue-server-bench [--json] [--database postgres://…] [--cold N] [--clients N] [--seconds N]
                                 [--interval MS] [--paced-only] [--refusals N]
      Runs the sync server in-process on 127.0.0.1 (SQLite, or PostgreSQL with --database): a cold
      sync of N changes into an empty replica (default 100000), then N concurrent clients (default 100)
      pushing 5 changes and pulling what the others wrote, for N seconds (default 30) twice: paced,
      each client syncing every MS milliseconds (default 250; latency counted from the scheduled
      send), then back to back (not with --paced-only). Then, in a space of 10,000 changes, an honest
      member's pushes alone and while another member sends N refused pushes (default 1000; 0: skip).
      Exit 1 if any request failed.
      dialogue-server-bench subject-access --help: the subject access benchmark (issue 13).
      dialogue-server-bench erasure --help: the erasure benchmark (issue 13).

    """

func fail(_ message: String, code: Int32 = 64) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "subject-access" {
    await SubjectAccessBenchmark.main(Array(arguments.dropFirst()))
    exit(0)
}
if arguments.first == "erasure" {
    await ErasureBenchmark.main(Array(arguments.dropFirst()))
    exit(0)
}
var json = false
var database: String?
var cold = 100_000
var clients = 100
var seconds = 30.0
var interval = 250
var saturate = true
var refusals = 1000
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--json": json = true
    case "--paced-only": saturate = false
    case "--database":
        guard let value = arguments.first else { fail("--database needs a postgres:// URL") }
        arguments.removeFirst()
        database = value
    case "--refusals":
        guard let value = arguments.first.flatMap(Int.init), value >= 0 else { fail("--refusals needs a number") }
        arguments.removeFirst()
        refusals = value
    case "--cold", "--clients", "--seconds", "--interval":
        guard let value = arguments.first.flatMap(Int.init), value > 0 else { fail("\(argument) needs a positive number") }
        arguments.removeFirst()
        switch argument {
        case "--cold": cold = value
        case "--clients": clients = value
        case "--interval": interval = value
        default: seconds = Double(value)
        }
    case "--help", "-h": fail(usage, code: 0)
    default: fail(usage)
    }
}
do {
    let report = try await ServerBenchmark.run(
        database: database, coldChanges: cold, clients: clients, seconds: seconds, intervalMilliseconds: interval, saturate: saturate,
        refusals: refusals)
    print(json ? report.json : report.table)
    exit(report.errors == 0 ? 0 : 1)
} catch {
    fail("dialogue-server-bench: \(error)", code: 1)
}
