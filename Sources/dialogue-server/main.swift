import Foundation

// The sync server arrives with issue #4. Until then this binary says so and exits non-zero,
// so no script mistakes it for a running service.
let message = """
    dialogue-server: the sync server is not built yet (issue #4).
    What runs today: the CRDT core and its tests (`swift test`) and the benchmark
    (`swift run -c release dialogue-bench trace ../shared/traces/seph-blog1.json.gz`).

    """
FileHandle.standardError.write(Data(message.utf8))
exit(2)
