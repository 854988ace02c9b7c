"""Reads an `strace -f -tt -y` trace of `jobscope serve` and checks that no answer
acknowledging a request (HTTP 200, 201 or 204 written to a client socket) was sent while a
write to the SQLite write-ahead log was not yet synced (fdatasync/fsync) to disk.

A sync covers the writes that completed before it started; an acknowledgement is checked
when its write to the socket starts. Exit status 0 when every acknowledgement was preceded
by the syncs of all earlier log writes, 1 otherwise, 2 when the trace holds too few
acknowledgements or no log write at all (the check would prove nothing).
"""

import argparse
import re
import sys

LINE = re.compile(r"^(\d+)\s+\S+\s+(.*)$")
CALL = re.compile(r"^(\w+)\((\d+)<([^>]*)>(.*)$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
ACK = re.compile(r'"HTTP/1\.1 (200|201|204) ')


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("wal", help="path of the database's -wal file")
    ap.add_argument("--min-acks", type=int, default=1)
    ap.add_argument("--drop-syncs", action="store_true", help="self-test: ignore every sync")
    args = ap.parse_args()

    written = 0  # log writes completed so far
    synced = 0  # log writes covered by a completed sync
    pending = {}  # pid -> (call, fd path, writes completed when the call started, text)
    acks = 0
    failures = []

    def finish(call, path, seen_at_start, text, result):
        nonlocal written, synced, acks
        ok = not result.strip().startswith("= -1")
        if path == args.wal and call in ("write", "pwrite64") and ok:
            written += 1
        elif path == args.wal and call in ("fsync", "fdatasync") and ok and not args.drop_syncs:
            synced = max(synced, seen_at_start)

    with open(args.trace, encoding="utf-8", errors="replace") as f:
        for n, raw in enumerate(f, 1):
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            pid, rest = m.group(1), m.group(2)
            r = RESUMED.match(rest)
            if r:
                if pid in pending:
                    call, path, seen, text = pending.pop(pid)
                    finish(call, path, seen, text, r.group(2).rsplit(")", 1)[-1])
                continue
            c = CALL.match(rest)
            if not c:
                continue
            call, path, tail = c.group(1), c.group(3), c.group(4)
            if call in ("write", "writev", "sendto", "sendmsg") and path.startswith(("TCP", "socket:")) and ACK.search(tail):
                acks += 1
                if synced < written:
                    failures.append(
                        f"line {n}: an answer was sent with {written - synced} log write(s) not yet synced"
                    )
            if tail.endswith("<unfinished ...>"):
                pending[pid] = (call, path, written, tail)
            else:
                finish(call, path, written, tail, tail.rsplit(")", 1)[-1])

    print(f"{acks} acknowledgements, {written} write-ahead log writes, "
          f"{'syncs ignored (self-test)' if args.drop_syncs else 'every one checked'}")
    if written == 0 or acks < args.min_acks:
        print(f"too little in the trace to prove anything (at least {args.min_acks} "
              "acknowledgements and one log write expected)", file=sys.stderr)
        return 2
    if failures:
        for line in failures[:20]:
            print(line, file=sys.stderr)
        print(f"FAIL: {len(failures)} acknowledgement(s) before the log was synced", file=sys.stderr)
        return 1
    print("PASS: every acknowledgement followed the sync of every earlier log write")
    return 0


if __name__ == "__main__":
    sys.exit(main())
