"""Prints scripts/bench-peers' table from lines of
`name <TAB> dialogue JSON <TAB> dialogue merge-only JSON <TAB> loro JSON`: merge figures and
peak memory come from the merge-only run when it has them (a process that merged and did
nothing else), local figures and sizes from the full run."""

import json
import sys


def ratio(ours, theirs, higher_is_better=True):
    if not ours or not theirs:
        return "-"
    return f"{(ours / theirs if higher_is_better else theirs / ours):.2f}x"


def main():
    rows = []
    for line in sys.stdin:
        name, dialogue, merge, loro = line.rstrip("\n").split("\t")
        d = json.loads(dialogue or "{}")
        m = json.loads(merge or "{}")
        d["replayPeakMemoryBytes"] = d.get("peakMemoryBytes")
        for key in ("mergePatchesPerSecond", "mergeMilliseconds", "peakMemoryBytes"):
            if m.get(key):
                d[key] = m[key]
        d["verified"] = d.get("verified") and m.get("verified", True)
        rows.append((name, d, json.loads(loro or "{}")))
    peer = next((l.get("peer") for _, _, l in rows if l.get("peer")), "loro-py")
    header = ["trace", "patches", "local/s", peer, "ratio", "merge/s", peer, "ratio", "merge ms",
              "gz B/patch", peer, "ratio", "peak MB", peer, "replay MB", "text"]
    table = [header]
    for name, d, l in rows:
        patches = d.get("patches") or l.get("patches") or 0
        def per_patch(report):
            return report.get("encodedGzipBytes", 0) / patches if patches and report.get("encodedGzipBytes") else None
        ok = ("ok" if d.get("verified") else "DIALOGUE WRONG") + ("" if l.get("verified") else " / loro differs")
        table.append([
            name, str(patches),
            f"{d.get('localPatchesPerSecond', 0) / 1e6:.2f}M", f"{l.get('localPatchesPerSecond', 0) / 1e6:.2f}M",
            ratio(d.get("localPatchesPerSecond"), l.get("localPatchesPerSecond")),
            f"{d.get('mergePatchesPerSecond', 0) / 1e6:.2f}M", f"{l.get('mergePatchesPerSecond', 0) / 1e6:.2f}M",
            ratio(d.get("mergePatchesPerSecond"), l.get("mergePatchesPerSecond")),
            f"{d.get('mergeMilliseconds', 0):.1f}",
            f"{per_patch(d) or 0:.3f}", f"{per_patch(l) or 0:.3f}", ratio(per_patch(d), per_patch(l), higher_is_better=False),
            f"{d.get('peakMemoryBytes', 0) / 2**20:.0f}", f"{l.get('peakMemoryBytes', 0) / 2**20:.0f}",
            f"{(d.get('replayPeakMemoryBytes') or 0) / 2**20:.0f}", ok,
        ])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))))
    print()
    print("ratios: Dialogue over the peer (size: the peer's bytes over Dialogue's), above 1 is Dialogue ahead;")
    print("local = every patch typed; merge = all changes into an empty document (timed and measured in a process")
    print("that only merges); peak = VmHWM of that process; replay MB = peak of the process that also replayed the trace.")
    print("text: 'loro differs' on a generated trace means the peer orders concurrent inserts otherwise (its end text is Dialogue's).")


if __name__ == "__main__":
    main()
