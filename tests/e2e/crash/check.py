"""Rebuilds the SQLite files of a `jobscope serve` run as a power cut at chosen moments would
have left them, and checks each such crash image (security requirement C1.15, "lose
un-fsynced writes", in the manner of LazyFS and of Pebble's crash clones).

Input: the I/O log written by iolog.so (every write to the database's files with its offset
and bytes, every truncate, sync, creation and removal of them, and every HTTP answer's head
before it was sent, all in one total order), the files as they were before the server started,
and stream.py's list of the mutations it sent.

A crash point is a position in the log: everything before it happened, nothing after. What
a power cut there leaves of a file is its initial content plus those of its writes and
truncates, in order, that precede the start of a sync (fsync or fdatasync) of that file which
completed before the crash point; the rest is "un-fsynced". Likewise a file's creation,
removal or renaming is durable only once a sync of the directory that began after it has
completed (POSIX's rule, stricter than ext4's). The `-shm` index is never part of an image
(SQLite rebuilds it). Variants of each crash point:

  synced   only what was synced survives, the rest is lost (LazyFS's "lose un-fsynced
           writes")
  torn     what was synced, plus a seeded random part of the rest: each unsynced write kept
           whole, lost, or torn (a random subset of its 512-byte sectors persisted); each
           unsynced creation or removal kept or not (Pebble's crash clones)
  process  every write survives (a killed process: the kernel keeps its page cache)

Each image is opened with SQLite (recovery from the write-ahead log), and must:
  - pass `PRAGMA integrity_check` and `PRAGMA foreign_key_check`;
  - hold the setup (the source project and its targets);
  - hold exactly the allowlist state after the first k mutations of the stream and exactly
    their k audit events, in order (so no change is there without its audit event or the
    other way round, and nothing is half applied), where k is the number of mutations
    acknowledged before the crash point, or one more (the one in flight).
Some images are then served by `jobscope serve`, which must start and answer the same state.

Exit status: 0 all images pass, 1 some image fails, 2 the log or the inputs are unusable.
"""

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field

HEADER = struct.Struct("<IiQqQQQ")
OPEN, WRITE, TRUNCATE, SYNC_BEGIN, SYNC_END, UNLINK, RENAME, CLOSE, ACK = range(1, 10)
OPEN_CREATED, OPEN_TRUNC, OPEN_DIR = 1, 2, 4
SECTOR = 512
REQUEST_ID = re.compile(rb"\r\nx-request-id: *([^\r\n]+)", re.IGNORECASE)
STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3}) ")


class Unusable(Exception):
    """The inputs cannot support a check (exit status 2)."""


@dataclass
class Record:
    kind: int
    fd: int
    seq: int
    arg: int
    ino: int
    data: bytes


def read_log(path: str) -> list[Record]:
    records = []
    with open(path, "rb") as f:
        raw = f.read()
    at = 0
    while at + HEADER.size <= len(raw):
        kind, fd, seq, arg, length, ino, _ = HEADER.unpack_from(raw, at)
        if at + HEADER.size + length > len(raw):
            break
        at += HEADER.size
        records.append(Record(kind, fd, seq, arg, ino, raw[at : at + length]))
        at += length
    # The server is killed: a record it was appending then may be cut short. Dropping it is
    # safe only if it was no write to the database; replay_matches_disk checks that.
    for a, b in zip(records, records[1:], strict=False):
        if b.seq != a.seq + 1:
            raise Unusable(f"the log skips from sequence {a.seq} to {b.seq}")
    return records


@dataclass
class Op:
    seq: int
    offset: int  # the write's offset, or the truncate's new length
    data: bytes | None  # None for a truncate


@dataclass
class NsOp:
    seq: int
    kind: str  # "create", "unlink", "rename"
    path: str
    ino: object = None
    to: str | None = None


@dataclass
class History:
    """Everything that happened to the database's files, keyed by inode."""

    initial: dict[str, bytes]  # path -> content before the server started
    ops: dict[object, list[Op]] = field(default_factory=lambda: defaultdict(list))
    syncs: dict[object, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    dir_syncs: list[tuple[int, int]] = field(default_factory=list)
    ns_ops: list[NsOp] = field(default_factory=list)
    acks: list[tuple[int, str, int]] = field(default_factory=list)  # (seq, request id, status)
    names: dict[int, str] = field(default_factory=dict)  # inode -> file name
    last_seq: int = 0
    # The inode of each initial file once the log names it; until then the path is its key.
    initial_ino: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, records: list[Record], initial: dict[str, bytes]) -> "History":
        h = cls(initial=initial)
        where: dict[str, int] = {}  # path -> inode, in the log's present
        dir_ino = None
        begun: dict[int, list[int]] = defaultdict(list)  # fd -> begun syncs, oldest first
        for r in records:
            h.last_seq = r.seq
            if r.kind == OPEN:
                path = r.data.decode()
                h.names.setdefault(r.ino, os.path.basename(path))
                if r.arg & OPEN_DIR:
                    dir_ino = r.ino
                    continue
                if r.arg & OPEN_CREATED:
                    h.ns_ops.append(NsOp(r.seq, "create", path, ino=r.ino))
                    where[path] = r.ino
                elif path not in where:
                    if path not in initial:
                        raise Unusable(f"{path} was opened but neither existed nor was created")
                    if path in h.initial_ino:
                        raise Unusable(f"{path} changed inode without being created")
                    h.initial_ino[path] = r.ino
                    where[path] = r.ino
                elif where[path] != r.ino:
                    raise Unusable(f"{path} changed inode without being created")
                if r.arg & OPEN_TRUNC:
                    h.ops[r.ino].append(Op(r.seq, 0, None))
            elif r.kind == WRITE:
                h.ops[r.ino].append(Op(r.seq, r.arg, r.data))
            elif r.kind == TRUNCATE:
                h.ops[r.ino].append(Op(r.seq, r.arg, None))
            elif r.kind == SYNC_BEGIN:
                begun[r.fd].append(r.seq)
            elif r.kind == SYNC_END:
                if not begun[r.fd]:
                    raise Unusable(f"a sync ended at {r.seq} that did not begin")
                # Paired with the oldest sync begun on that descriptor: if two overlapped, the
                # earlier start covers less, so the model never credits a sync with too much.
                span = (begun[r.fd].pop(0), r.seq)
                if r.ino == dir_ino:
                    h.dir_syncs.append(span)
                else:
                    h.syncs[r.ino].append(span)
            elif r.kind == UNLINK:
                path = r.data.decode()
                h.ns_ops.append(NsOp(r.seq, "unlink", path))
                where.pop(path, None)
            elif r.kind == RENAME:
                old, new = (p.decode() for p in r.data.split(b"\0", 1))
                h.ns_ops.append(NsOp(r.seq, "rename", old, to=new))
                if old in where:
                    where[new] = where.pop(old)
            elif r.kind == ACK:
                rid = REQUEST_ID.search(r.data)
                status = STATUS.match(r.data)
                if rid and status:
                    h.acks.append((r.seq, rid.group(1).decode().strip(), int(status.group(1))))
        return h

    def content_key(self, path: str) -> object:
        return self.initial_ino.get(path, ("initial", path))

    def synced_before(self, spans: list[tuple[int, int]], crash: int) -> int:
        """Everything before this sequence number was synced by a sync completed before
        `crash` (0: nothing was)."""
        return max((begin for begin, end in spans if end < crash), default=0)

    def image(self, crash: int, variant: str, rng: random.Random) -> dict[str, bytes]:
        """The files (path -> content) a crash just before sequence number `crash` leaves."""

        def keep(seq: int, covered: int) -> bool:
            if seq < covered or variant == "process":
                return True
            return variant == "torn" and rng.random() < 0.5

        # The directory: which names exist, and which inode each names.
        names: dict[str, object] = {p: self.content_key(p) for p in self.initial}
        covered = self.synced_before(self.dir_syncs, crash)
        for op in self.ns_ops:
            if op.seq >= crash or not keep(op.seq, covered):
                continue
            if op.kind == "create":
                names[op.path] = op.ino
            elif op.kind == "unlink":
                names.pop(op.path, None)
            elif op.kind == "rename" and op.path in names:
                names[op.to] = names.pop(op.path)

        files = {}
        for path, key in names.items():
            if isinstance(key, tuple):
                files[path] = self.initial[key[1]]
                continue
            initial_path = next((p for p, i in self.initial_ino.items() if i == key), None)
            content = bytearray(self.initial[initial_path] if initial_path else b"")
            covered = self.synced_before(self.syncs[key], crash)
            for op in self.ops[key]:
                if op.seq >= crash:
                    break
                if op.seq < covered or variant == "process":
                    apply(content, op, None)
                elif variant == "torn":
                    choice = rng.random()
                    if choice < 0.4:
                        apply(content, op, None)
                    elif choice < 0.7 and op.data is not None:
                        apply(content, op, rng)
                    # else: lost
            files[path] = bytes(content)
        return files


def apply(content: bytearray, op: Op, tear: random.Random | None) -> None:
    if op.data is None:
        if op.offset < len(content):
            del content[op.offset :]
        else:
            content.extend(b"\0" * (op.offset - len(content)))
        return
    end = op.offset + len(op.data)
    if end > len(content):
        content.extend(b"\0" * (end - len(content)))
    if tear is None:
        content[op.offset : end] = op.data
        return
    # A torn write: each 512-byte sector of the file it touches persisted or not.
    start = op.offset
    while start < end:
        stop = min(end, (start // SECTOR + 1) * SECTOR)
        if tear.random() < 0.5:
            content[start:stop] = op.data[start - op.offset : stop - op.offset]
        start = stop


@dataclass
class Expected:
    """The state after each prefix of the mutation stream."""

    source: int
    ids: list[str]
    states: list[tuple]
    events: list[tuple[str, str, int]]
    targets: set[int]  # the projects the stream adds

    @classmethod
    def load(cls, path: str) -> "Expected":
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
        source = run["source"]
        projects: dict[int, tuple[str, ...]] = {}
        groups: dict[int, tuple[str, ...]] = {}
        inbound = True
        states = [freeze(projects, groups, inbound)]
        events = []
        targets = set()
        for m in run["mutations"]:
            op = m["op"]
            if op in ("add_project", "update_project"):
                projects[m["target"]] = tuple(m["policies"])
                name = "project_added" if op == "add_project" else "policies_updated"
                events.append((f"secure_ci_job_token_{name}", "Project", m["target"]))
                targets.add(m["target"])
            elif op == "remove_project":
                del projects[m["target"]]
                events.append(("secure_ci_job_token_project_removed", "Project", m["target"]))
            elif op in ("add_group", "update_group"):
                groups[m["target"]] = tuple(m["policies"])
                name = "group_added" if op == "add_group" else "policies_updated"
                events.append((f"secure_ci_job_token_{name}", "Group", m["target"]))
            elif op == "remove_group":
                del groups[m["target"]]
                events.append(("secure_ci_job_token_group_removed", "Group", m["target"]))
            elif op == "inbound":
                inbound = m["enabled"]
                word = "enabled" if inbound else "disabled"
                events.append((f"secure_ci_job_token_inbound_{word}", "ProjectCiCdSetting", source))
            else:
                raise Unusable(f"unknown mutation {op!r}")
            states.append(freeze(projects, groups, inbound))
        final = run["final"]
        if states[-1] != freeze(
            {int(k): tuple(v) for k, v in final["projects"].items()},
            {int(k): tuple(v) for k, v in final["groups"].items()},
            final["inbound"],
        ):
            raise Unusable("the model disagrees with stream.py's final state")
        ids = [m["id"] for m in run["mutations"]]
        return cls(source, ids, states, events, targets)


def freeze(projects, groups, inbound) -> tuple:
    return (tuple(sorted(projects.items())), tuple(sorted(groups.items())), inbound)


def read_image(db: str, source: int) -> tuple[list[str], tuple, list[tuple], set[int]]:
    """Opens an image with SQLite: (problems, state, audit events, project ids)."""
    problems = []
    conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=1)
    try:
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            problems.append(f"integrity_check: {integrity[:5]}")
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append(f"foreign_key_check: {fk[:5]}")
        projects, groups = {}, {}
        for target, policies, default, direction in conn.execute(
            "SELECT target_project_id, job_token_policies, default_permissions, direction "
            "FROM ci_job_token_project_scope_links WHERE source_project_id = ?",
            (source,),
        ):
            if direction != 1 or default != 1:
                problems.append(f"project entry {target}: direction {direction}, default {default}")
            projects[target] = tuple(json.loads(policies))
        for target, policies, default in conn.execute(
            "SELECT target_group_id, job_token_policies, default_permissions "
            "FROM ci_job_token_group_scope_links WHERE source_project_id = ?",
            (source,),
        ):
            if default != 1:
                problems.append(f"group entry {target}: default {default}")
            groups[target] = tuple(json.loads(policies))
        row = conn.execute(
            "SELECT inbound_job_token_scope_enabled FROM projects WHERE id = ?", (source,)
        ).fetchone()
        inbound = None if row is None else bool(row[0])
        events = []
        for entity, name, target_type, target_id in conn.execute(
            "SELECT entity_id, event_name, target_type, target_id FROM audit_events ORDER BY id"
        ):
            if entity != source:
                problems.append(f"an audit event of entity {entity}")
            events.append((name, target_type, target_id))
        ids = {r[0] for r in conn.execute("SELECT id FROM projects")}
    finally:
        conn.close()
    return problems, freeze(projects, groups, inbound), events, ids


def check_image(db: str, exp: Expected, acked: int) -> tuple[list[str], int]:
    """Checks one image, `acked` mutations having been acknowledged before its crash point:
    (problems, how many mutations it holds)."""
    try:
        problems, state, events, ids = read_image(db, exp.source)
    except sqlite3.Error as e:
        return [f"SQLite cannot read it: {e}"], -1
    k = len(events)
    if events != exp.events[:k]:
        problems.append(f"the {k} audit events are not the stream's first {k}")
    elif state != exp.states[k]:
        problems.append(f"the allowlist is not the state after its {k} audit events")
    if k < acked:
        problems.append(f"{acked - k} acknowledged mutation(s) lost ({exp.ids[k]} first)")
    elif k > acked + 1:
        problems.append(f"{k} mutations applied but only {acked} acknowledged")
    missing = ({exp.source} | exp.targets) - ids
    if missing:
        problems.append(f"projects of the setup missing: {sorted(missing)}")
    return problems, k


@dataclass
class Point:
    seq: int
    why: str


def crash_points(h: History, exp: Expected, rng: random.Random, count: int) -> list[Point]:
    """Where to crash, all after the setup was acknowledged. Always: right after the setup;
    just before each sync of the database file or of the directory completed (checkpoints,
    the log's creation); inside checkpoints (after some of their writes to the database
    file); just after each rewrite of the log's header (the log restarted after a
    checkpoint); after the last record. Then, up to `count` in all, an even spread over: just
    after each acknowledgement was logged (before the client could read it), just before each
    sync of the log completed (a commit written but not yet durable), between two writes and
    at random."""
    first_ack = {}
    for seq, rid, _ in h.acks:
        first_ack.setdefault(rid, seq)
    start = max(seq for rid, seq in first_ack.items() if rid.startswith("setup-")) + 1
    must = [Point(start, "right after the setup"), Point(h.last_seq + 1, "after the last record")]
    pool = [Point(first_ack[i] + 1, "just after an acknowledgement") for i in exp.ids]
    for ino, spans in h.syncs.items():
        name = h.names[ino]
        for _, end in spans:
            if end > start:
                p = Point(end, f"just before a sync of {name} completed")
                (pool if name.endswith("-wal") else must).append(p)
    must += [
        Point(e, "just before a sync of the directory completed")
        for _, e in h.dir_syncs
        if e > start
    ]
    for ino, ops in h.ops.items():
        name = h.names[ino]
        if name.endswith("-wal"):
            must += [
                Point(op.seq + 1, "just after the log's header was rewritten")
                for op in ops
                if op.seq > start and op.offset == 0 and op.data is not None
            ]
        else:
            inside = [op.seq for op in ops if op.seq > start]
            must += [
                Point(s + 1, f"inside a checkpoint, after a write to {name}")
                for s in rng.sample(inside, min(len(inside), 12))
            ]
    writes = [op.seq for ops in h.ops.values() for op in ops if op.seq > start]
    pool += [Point(s, "between two writes") for s in rng.sample(writes, min(len(writes), count))]
    pool += [Point(rng.randint(start, h.last_seq + 1), "at random") for _ in range(count // 2)]

    chosen: dict[int, Point] = {}
    for p in must:
        chosen.setdefault(p.seq, p)
    rest = sorted(
        {p.seq: p for p in reversed(pool) if p.seq not in chosen}.values(), key=lambda p: p.seq
    )
    room = max(count - len(chosen), 0)
    if len(rest) > room > 1:
        step = (len(rest) - 1) / (room - 1)
        rest = [rest[round(i * step)] for i in range(room)]
    elif len(rest) > room:
        rest = rest[:room]
    for p in rest:
        chosen.setdefault(p.seq, p)
    return sorted(chosen.values(), key=lambda p: p.seq)


def replay_matches_disk(h: History, db: str) -> None:
    """The log is complete: replaying all of it gives the files the server left behind."""
    replayed = h.image(h.last_seq + 1, "process", random.Random(0))
    for suffix in ("", "-wal", "-journal"):
        path = db + suffix
        on_disk = None
        if os.path.exists(path):
            with open(path, "rb") as f:
                on_disk = f.read()
        if replayed.get(path) != on_disk:
            raise Unusable(f"replaying the log does not give {path} as the server left it")


def acknowledged(h: History, exp: Expected, crash: int) -> int:
    """How many mutations were acknowledged (their answer's head logged) before `crash`; the
    client sends one at a time, so they form a prefix."""
    seen = {rid for seq, rid, _ in h.acks if seq < crash}
    n = 0
    while n < len(exp.ids) and exp.ids[n] in seen:
        n += 1
    if any(i in seen for i in exp.ids[n:]):
        raise Unusable("acknowledgements out of order: the client was not sequential")
    return n


def serve_check(jobscope: str, db: str, token: str, exp: Expected, k: int) -> list[str]:
    """Starts `jobscope serve` on an image and reads the allowlist back over HTTP."""
    port_file = os.path.join(os.path.dirname(db), "port")
    log_file = os.path.join(os.path.dirname(db), "server.log")
    env = dict(os.environ, JOBSCOPE_LOG="warn")
    for name in ("LD_PRELOAD", "JOBSCOPE_IOLOG", "JOBSCOPE_IOLOG_DB"):
        env.pop(name, None)
    with open(log_file, "wb") as log:  # the child keeps its own copy
        proc = subprocess.Popen(
            [
                jobscope,
                "serve",
                "--database",
                f"sqlite://{db}",
                "--root-token",
                token,
                "--listen",
                "127.0.0.1:0",
                "--port-file",
                port_file,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    address = None

    def get(path):
        url = f"http://{address}/api/v4/projects/{exp.source}{path}"
        req = urllib.request.Request(url, headers={"PRIVATE-TOKEN": token})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read()), resp.headers

    try:
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline:
                return ["jobscope serve did not answer within 30 s"]
            if proc.poll() is not None:
                with open(log_file, encoding="utf-8", errors="replace") as f:
                    return [f"jobscope serve exited: {f.read()[-500:]}"]
            if address is None:
                if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                    with open(port_file, encoding="utf-8") as f:
                        address = f.read().strip()
                else:
                    time.sleep(0.05)
                    continue
            try:
                scope, _ = get("/job_token_scope")
                break
            except urllib.error.HTTPError as e:
                return [f"jobscope serve answered {e.code} to GET /job_token_scope"]
            except OSError:
                time.sleep(0.05)
        projects, _ = get("/job_token_scope/allowlist?per_page=100")
        groups, _ = get("/job_token_scope/groups_allowlist?per_page=100")
        _, headers = get("/audit_events?per_page=1")
        want_projects, want_groups, want_inbound = exp.states[k]
        problems = []
        got_projects = sorted(p["id"] for p in projects if p["id"] != exp.source)
        if got_projects != [t for t, _ in want_projects]:
            problems.append(f"served project allowlist {got_projects}, expected {want_projects}")
        got_groups = sorted(g["id"] for g in groups)
        if got_groups != [g for g, _ in want_groups]:
            problems.append(f"served group allowlist {got_groups}, expected {want_groups}")
        if scope["inbound_enabled"] != want_inbound:
            problems.append(f"served inbound_enabled {scope['inbound_enabled']}")
        if headers.get("X-Total") != str(k):
            problems.append(f"served {headers.get('X-Total')} audit events, expected {k}")
        return problems
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log", help="the I/O log written by iolog.so")
    ap.add_argument("initial", help="directory with the database files before the server ran")
    ap.add_argument("db", help="the database's absolute path during the run")
    ap.add_argument("mutations", help="stream.py's JSON output")
    ap.add_argument("--images", required=True, help="directory to build crash images in")
    ap.add_argument("--points", type=int, default=150, help="how many crash points")
    ap.add_argument(
        "--variants",
        default="synced,torn,torn,process",
        help="images built at each crash point (synced, torn, process), comma-separated",
    )
    ap.add_argument("--serve", type=int, default=6, help="images also served by jobscope")
    ap.add_argument("--jobscope", help="the jobscope binary (for --serve)")
    ap.add_argument("--token", help="the root token (for --serve)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--quiet", action="store_true", help="only the summary")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    try:
        initial = {}
        dbdir = os.path.dirname(args.db)
        for name in os.listdir(args.initial):
            with open(os.path.join(args.initial, name), "rb") as f:
                initial[os.path.join(dbdir, name)] = f.read()
        if args.db not in initial:
            raise Unusable(f"no initial copy of {args.db}")
        h = History.build(read_log(args.log), initial)
        exp = Expected.load(args.mutations)
        if len(h.acks) < len(exp.ids):
            raise Unusable(f"{len(h.acks)} answers logged for {len(exp.ids)} mutations")
        points = crash_points(h, exp, rng, args.points)
        replay_matches_disk(h, args.db)
    except Unusable as e:
        print(f"check.py: {e}", file=sys.stderr)
        return 2

    wal_writes = sum(len(ops) for ops in h.ops.values())
    wal_syncs = sum(len(s) for s in h.syncs.values())
    print(
        f"log: {h.last_seq} records, {wal_writes} writes and {wal_syncs} syncs of the database "
        f"files, {len(h.dir_syncs)} directory syncs, {len(h.acks)} answers; "
        f"{len(points)} crash points"
    )
    variants = args.variants.split(",")
    if not set(variants) <= {"synced", "torn", "process"}:
        print(f"check.py: unknown variant in {args.variants!r}", file=sys.stderr)
        return 2
    serve_at = set(rng.sample(range(len(points)), min(args.serve, len(points))))
    failures = []
    checked = served = lost_ack = 0
    in_flight_present = {"synced": 0, "torn": 0, "process": 0}
    os.makedirs(args.images, exist_ok=True)
    for n, point in enumerate(points):
        acked = acknowledged(h, exp, point.seq)
        for v, variant in enumerate(variants):
            name = f"{n:03d}-{variant}{v}"
            where = os.path.join(args.images, name)
            os.makedirs(where)
            files = h.image(point.seq, variant, random.Random(f"{args.seed}/{point.seq}/{v}"))
            for path, content in files.items():
                with open(os.path.join(where, os.path.basename(path)), "wb") as f:
                    f.write(content)
            db = os.path.join(where, os.path.basename(args.db))
            if v == 0 and n in serve_at:
                shutil.copytree(where, where + "-served")
            problems, k = check_image(db, exp, acked)
            if 0 <= k < acked:
                lost_ack += 1
            elif k == acked + 1:
                in_flight_present[variant] += 1
            if v == 0 and n in serve_at and args.jobscope and not problems:
                served_db = os.path.join(where + "-served", os.path.basename(args.db))
                problems += serve_check(args.jobscope, served_db, args.token, exp, k)
                served += 1
            checked += 1
            if problems:
                failures.append(
                    f"crash at {point.seq} ({point.why}), {variant}: " + "; ".join(problems)
                )
            elif not args.quiet:
                why = f"crash at {point.seq} ({point.why})"
                print(f"ok {name}: {why}, {acked} acknowledged, {k} applied")
            shutil.rmtree(where)
            if os.path.exists(where + "-served"):
                shutil.rmtree(where + "-served")

    print(
        f"{checked} crash images checked at {len(points)} crash points ({', '.join(variants)}); "
        f"{served} also served by jobscope; the mutation in flight was present in "
        + ", ".join(f"{n} {v}" for v, n in in_flight_present.items())
        + " images"
    )
    if failures:
        for line in failures[:15]:
            print(line, file=sys.stderr)
        print(
            f"FAIL: {len(failures)} of {checked} crash images; "
            f"{lost_ack} of them lost acknowledged mutations",
            file=sys.stderr,
        )
        return 1
    print("PASS: every image recovered, with every acknowledged mutation and nothing half applied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
