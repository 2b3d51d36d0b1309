import DialogueGzip
import DialogueModel
import DialogueTestSupport
import Foundation

// dialogue-bench: measures Dialogue's CRDT core on editing traces. Not a test: it prints figures.
let usage = """
    usage: dialogue-bench trace PATH [--json] [--runs N] [--save-changes FILE | --merge-only FILE]
           dialogue-bench replica [--json] [--edits N] [--changes N] [--runs N] [--trace PATH | --no-trace]
           dialogue-bench bundle make PATH [--changes N] | bundle import PATH [--runs N]
           dialogue-bench chain [--changes N] [--runs N]
           dialogue-bench startup-replica PATH [--changes N] [--synced]
           dialogue-bench generate-trace PATH [--authors N] [--patches N] [--seed S] [--sync P] [--hot P]
      Replays an editing trace (editing-traces format, sequential or concurrent, .json or .json.gz),
      verifies the final text against endContent (exit 1 on a mismatch), and prints local-edit and
      merge rates, peak memory and the encoded size of all changes. `--save-changes FILE` also
      writes the encoded changes; `--merge-only FILE` then merges those into an empty document and
      does nothing else (no replay: a concurrent trace's keeps one replica per agent), so its
      peak memory is the merge's alone.
      `replica` measures the SQLite replica: N local field edits in batches of 100 (default 100000)
      and a merge of N remote changes from a bundle (default 1000000), each against raw SQLite
      doing the equivalent inserts, and a trace typed into an insight (default seph-blog1); each
      figure is the median of N runs (default 3) that alternate replica and raw SQLite.
      `bundle` writes the replica benchmark's bundle to a file, or imports a bundle into fresh
      replicas and prints changes/s: a merge alone, to profile.
      `chain` times the hash chain alone on one core (ns per change: whole, digests, links).
      `startup-replica` writes a replica of N changes (default 1000000: the `bundle` one,
      imported) at PATH, to time dialogue-client against; `--synced` adds a login file saying
      the server holds them all (docs/PERFORMANCE.md, "Start-up").
      `generate-trace` writes a seeded concurrent trace with many authors (default 200 authors,
      50000 patches, sync 0.05, hot 0.3: ManyAuthorsTrace) as .json.gz, for `trace` and peers.
      The sync server has its own: dialogue-server-bench --help.

    """

func fail(_ message: String, code: Int32 = 64) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "replica" {
    arguments.removeFirst()
    var json = false
    var edits = 100_000
    var changes = 1_000_000
    var replicaRuns = 3
    var trace: String? = EditingTrace.sharedTracesDirectory().appendingPathComponent("seph-blog1.json.gz").path
    while !arguments.isEmpty {
        let argument = arguments.removeFirst()
        switch argument {
        case "--json": json = true
        case "--edits", "--changes", "--runs":
            guard let value = arguments.first.flatMap(Int.init), value > 0 else { fail("\(argument) needs a positive number") }
            arguments.removeFirst()
            switch argument {
            case "--edits": edits = value
            case "--changes": changes = value
            default: replicaRuns = value
            }
        case "--no-trace": trace = nil
        case "--trace":
            guard let value = arguments.first else { fail("--trace needs a path") }
            arguments.removeFirst()
            trace = value
        default: fail(usage)
        }
    }
    do {
        let report = try await ReplicaBenchmark.run(edits: edits, merges: changes, tracePath: trace, runs: replicaRuns)
        print(json ? report.json : report.table)
        exit(report.traceVerified || trace == nil ? 0 : 1)
    } catch {
        fail("dialogue-bench: \(error)", code: 1)
    }
}
if arguments.first == "startup-replica", arguments.count >= 2 {
    let path = arguments[1]
    var changes = 1_000_000
    var synced = false
    var rest = arguments.dropFirst(2)
    while let argument = rest.popFirst() {
        switch argument {
        case "--synced": synced = true
        case "--changes":
            guard let value = rest.popFirst().flatMap(Int.init), value > 0 else { fail("--changes needs a positive number") }
            changes = value
        default: fail(usage)
        }
    }
    do {
        try await StartupBenchmark.makeReplica(at: path, changes: changes, synced: synced)
        exit(0)
    } catch {
        fail("dialogue-bench: \(error)", code: 1)
    }
}
if arguments.first == "generate-trace", arguments.count >= 2 {
    let path = arguments[1]
    var parameters = ManyAuthorsTrace.Parameters(authors: 200, patches: 50_000)
    var rest = arguments.dropFirst(2)
    while let argument = rest.popFirst() {
        guard let value = rest.popFirst() else { fail("\(argument) needs a value") }
        switch argument {
        case "--authors": parameters.authors = Int(value) ?? 0
        case "--patches": parameters.patches = Int(value) ?? 0
        case "--seed": parameters.seed = UInt64(value) ?? 0
        case "--sync": parameters.syncProbability = Double(value) ?? -1
        case "--hot": parameters.hotSpotProbability = Double(value) ?? -1
        default: fail(usage)
        }
    }
    do {
        let trace = try ManyAuthorsTrace.generate(parameters)
        try Data(Gzip.compress([UInt8](try trace.jsonData()))).write(to: URL(fileURLWithPath: path))
        print("\(path): \(parameters.name), \(trace.transactions.count) transactions, \(trace.patchCount) patches")
        exit(0)
    } catch {
        fail("dialogue-bench: \(error)", code: 1)
    }
}
if arguments.first == "chain" {
    arguments.removeFirst()
    var changes = 100_000
    var runs = 5
    while !arguments.isEmpty {
        let argument = arguments.removeFirst()
        guard argument == "--changes" || argument == "--runs", let value = arguments.first.flatMap(Int.init), value > 0 else { fail(usage) }
        arguments.removeFirst()
        if argument == "--changes" { changes = value } else { runs = value }
    }
    do {
        try ChainBenchmark.run(changes: changes, runs: runs)
        exit(0)
    } catch {
        fail("dialogue-bench: \(error)", code: 1)
    }
}
if arguments.first == "bundle", arguments.count >= 3 {
    let (action, path) = (arguments[1], arguments[2])
    var count = action == "make" ? 1_000_000 : 1
    if arguments.count == 5, arguments[3] == (action == "make" ? "--changes" : "--runs") {
        guard let value = Int(arguments[4]), value > 0 else { fail("\(arguments[3]) needs a positive number") }
        count = value
    } else if arguments.count != 3 {
        fail(usage)
    }
    do {
        switch action {
        case "make": print("\(try ReplicaBenchmark.makeBundle(changes: count, at: URL(fileURLWithPath: path))) bytes")
        case "import": try await ReplicaBenchmark.importOnly(URL(fileURLWithPath: path), runs: count)
        default: fail(usage)
        }
        exit(0)
    } catch {
        fail("dialogue-bench: \(error)", code: 1)
    }
}
guard arguments.first == "trace", arguments.count >= 2 else { fail(usage) }
arguments.removeFirst()
var json = false
var runs = 5
var path: String?
var saveChanges: String?
var mergeOnly: String?
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--json": json = true
    case "--save-changes", "--merge-only":
        guard let value = arguments.first else { fail("\(argument) needs a file") }
        arguments.removeFirst()
        if argument == "--save-changes" { saveChanges = value } else { mergeOnly = value }
    case "--runs":
        guard let value = arguments.first.flatMap(Int.init), value > 0 else { fail("--runs needs a positive number") }
        runs = value
        arguments.removeFirst()
    default:
        guard path == nil, !argument.hasPrefix("-") else { fail(usage) }
        path = argument
    }
}
guard let path, saveChanges == nil || mergeOnly == nil else { fail(usage) }

do {
    if let mergeOnly {
        let report = try TraceBenchmark.mergeOnly(path: path, changesPath: mergeOnly, runs: runs)
        print(json ? report.json : report.table)
        exit(report.verified ? 0 : 1)
    }
    let report = try TraceBenchmark.run(path: path, runs: runs, saveChangesTo: saveChanges)
    print(json ? report.json : report.table)
    if !report.verified { exit(1) }
} catch {
    fail("dialogue-bench: \(error)", code: 1)
}
