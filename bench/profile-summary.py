#!/usr/bin/env python3
"""Where fhirwall's CPU goes, from async-profiler's collapsed stacks (bench/profile.sh).

Each sample of an event-loop, heavy-work or audit thread is put in one stage: walking from the
leaf towards the root, the first frame that is fhirwall code names the stage by its package (or
class, for the few classes that are a stage of their own); a sample that reaches Netty's channel
I/O or HTTP codec before any fhirwall frame is "network I/O + HTTP codec". Other threads (JIT
compiler, GC, the JVM) are totalled apart.
usage: profile-summary.py STACKS.collapsed
"""
import collections
import sys

STAGES = [  # (frame prefix, stage) — first match wins, so more specific prefixes first
    ("org/fhirwall/fhir/PageLinks", "paging links (AES-GCM)"),
    ("org/fhirwall/fhir/", "request parsing + classification"),
    ("org/fhirwall/auth/", "token check"),
    ("org/fhirwall/policy/", "policy decision"),
    ("org/fhirwall/quota/", "quota (rate gate, charge)"),
    ("org/fhirwall/inspect/", "response inspection"),
    ("org/fhirwall/respond/", "response shaping (links, edits, splicing)"),
    ("org/fhirwall/audit/", "audit (records, serialisation, writing)"),
    ("org/fhirwall/admin/", "metrics"),
    ("org/fhirwall/upstream/", "EPR client"),
    ("org/fhirwall/server/", "sequencer + HTTP handling"),
]
IO = ("io/netty/channel/epoll/", "io/netty/channel/nio/", "io/netty/handler/codec/", "io/netty/channel/unix/",
      "sun/nio/ch/", "io/netty/buffer/")


def stage(frames):
    for f in reversed(frames):
        for prefix, name in STAGES:
            if f.startswith(prefix):
                return name
        if f.startswith(IO):
            return "network I/O + HTTP codec"
    return "other (Netty event loop, JDK)"


def main(path):
    by_stage = collections.Counter()
    other = collections.Counter()
    total = 0
    for line in open(path, encoding="utf-8"):
        stack, _, n = line.rstrip().rpartition(" ")
        n = int(n)
        frames = stack.split(";")
        thread = frames[0]
        total += n
        if "audit" in thread:
            by_stage["audit (records, serialisation, writing)"] += n
        elif "IoEventLoop" in thread or "heavy" in thread:
            by_stage[stage(frames[1:])] += n
        elif "Compiler" in thread or thread.startswith("[C"):
            other["JIT compiler"] += n
        elif "GC" in thread:
            other["GC"] += n
        else:
            other["other threads"] += n
    work = sum(by_stage.values())
    print(f"{total} samples; request work (event loops, heavy work, audit writer): {work} ({100 * work / max(total, 1):.0f} %)")
    for name, n in by_stage.most_common():
        print(f"  {100 * n / max(work, 1):5.1f} %  {name}")
    for name, n in other.most_common():
        print(f"  (outside request work: {name} {100 * n / max(total, 1):.1f} % of all samples)")


if __name__ == "__main__":
    main(sys.argv[1])
