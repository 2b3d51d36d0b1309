"""Replays one editing trace (josephg/editing-traces format) through Loro's Python binding
and prints one JSON object: what `dialogue-bench trace --json` prints for Dialogue, for the
same patches. Driven by scripts/bench-peers; not a test.

Local edits: every patch through LoroText.insert/delete; a sequential trace is committed
once at the end, a concurrent one per transaction (its updates travel to other agents). Concurrent traces: one LoroDoc per agent, each
importing its transaction's missing ancestors first. Merge: LoroDoc.import_ of all updates
into an empty document. Size: the updates, gzip'd. Peak memory: VmHWM, reset before the
replay (as dialogue-bench does)."""

import gzip
import json
import sys
import time
from importlib.metadata import version

from loro import ExportMode, LoroDoc, VersionVector


def load(path):
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def peak_bytes():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def apply_patches(text, patches):
    for position, delete, insert in patches:
        if delete:
            text.delete(position, delete)
        if insert:
            text.insert(position, insert)


def replay_sequential(trace):
    doc = LoroDoc()
    doc.peer_id = 1
    text = doc.get_text("text")
    if trace.get("startContent"):
        text.insert(0, trace["startContent"])
        doc.commit()
    for txn in trace["txns"]:
        apply_patches(text, txn["patches"])
    # One commit at the end: Loro joins one peer's consecutive edits into changes itself, and
    # committing per patch would cost it several times over (the kindest reading for the peer).
    doc.commit()
    return doc, [doc]


def replay_concurrent(trace):
    agents = trace.get("numAgents", 1)
    docs = []
    for agent in range(agents):
        doc = LoroDoc()
        doc.peer_id = agent + 1
        docs.append(doc)
    txns = trace["txns"]
    produced = [None] * len(txns)
    known = [set() for _ in range(agents)]
    for index, txn in enumerate(txns):
        agent = txn.get("agent", 0)
        doc = docs[agent]
        missing = []
        stack = list(txn.get("parents", []))
        while stack:
            parent = stack.pop()
            if parent in known[agent]:
                continue
            known[agent].add(parent)
            missing.append(parent)
            stack.extend(txns[parent].get("parents", []))
        for ancestor in sorted(missing):
            doc.import_(produced[ancestor])
        before = doc.oplog_vv
        apply_patches(doc.get_text("text"), txn["patches"])
        doc.commit()
        produced[index] = doc.export(ExportMode.Updates(before))
        known[agent].add(index)
    final = LoroDoc()
    final.import_batch([update for update in produced])
    return final, [final]


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    trace = load(path)
    concurrent = trace.get("kind") == "concurrent"
    patches = sum(len(txn["patches"]) for txn in trace["txns"])
    expected = trace["endContent"]
    verified = True
    reset_peak()
    local_best = float("inf")
    doc = None
    for _ in range(runs):
        doc = None
        start = time.perf_counter()
        doc, docs = replay_concurrent(trace) if concurrent else replay_sequential(trace)
        local_best = min(local_best, time.perf_counter() - start)
        verified = verified and all(d.get_text("text").to_string() == expected for d in docs)
    updates = doc.export(ExportMode.Updates(VersionVector()))
    doc = None
    merge_best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        merged = LoroDoc()
        merged.import_(updates)
        text = merged.get_text("text").to_string()
        merge_best = min(merge_best, time.perf_counter() - start)
        verified = verified and text == expected
    print(json.dumps({
        "trace": path.rsplit("/", 1)[-1], "patches": patches, "peer": "loro-py " + version("loro"),
        "localPatchesPerSecond": int(patches / local_best), "mergePatchesPerSecond": int(patches / merge_best),
        "encodedBytes": len(updates), "encodedGzipBytes": len(gzip.compress(updates, 9)),
        "peakMemoryBytes": peak_bytes(), "verified": verified, "runs": runs,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
