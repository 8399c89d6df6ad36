#!/usr/bin/env python3
"""Where a server's core went: reads `perf script -F comm,ip,sym,dso` of a `perf record
--call-graph dwarf` profile on stdin and prints a Markdown table of the samples by category,
then by thread.

A kernel sample is named by its syscall (or as a context switch, whatever the syscall); a user
sample by the first frame from the leaf up that a rule below names, so that a memcpy inside
serde_json counts as JSON. docs/benchmarks.md has the commands.
"""
import re, sys, collections

SYSCALL = re.compile(r'__x64_sys_(\w+)|__do_sys_(\w+)')
USER_RULES = [
    ('SQLite engine', re.compile(r'^sqlite3|^pcache1|^wal[A-Z]|^btree|^vdbe|^unixSync|^unixWrite|^unixRead|^pager')),
    ('sqlx (driver, its worker threads and channels)', re.compile(r'sqlx|flume')),
    ('PostgreSQL client protocol', re.compile(r'tokio_postgres|postgres_protocol')),
    ('crypto (ECDSA/RSA signing, HMAC, SHA-2)', re.compile(r'ring::|ring_core|p256|ecdsa|sha2::|hmac|ed25519|curve25519|_gfp_|ecp_nistz256|sha256_block|sha512_block|bn_mul|aws_lc')),
    ('JSON (serde_json)', re.compile(r'serde_json|serde::')),
    ('HTTP (hyper, axum, tower)', re.compile(r'hyper::|axum::|tower|http::|httparse|h1::')),
    ('tokio runtime (scheduling tasks, timers, I/O driver)', re.compile(r'tokio::')),
    ('logging, metrics (tracing)', re.compile(r'tracing|metrics')),
    ('Registrar code (validation, pipeline, store glue)', re.compile(r'registrar')),
    ('allocator, memcpy', re.compile(r'malloc|free|memmove|memcpy|memset|realloc|_int_|unlink_chunk|calloc|cfree')),
]
KERNEL_SCHED = re.compile(r'finish_task_switch|__schedule|schedule$')

def categorize(frames):
    # frames: list of (symbol, dso), leaf first
    if frames and frames[0][1].startswith('[kernel'):
        for sym, _ in frames:
            if KERNEL_SCHED.search(sym):
                return 'kernel: context switches (threads waking, sleeping)'
        for sym, _ in frames:
            m = SYSCALL.search(sym)
            if m:
                name = m.group(1) or m.group(2)
                if name in ('fsync', 'fdatasync'): return 'kernel: fsync'
                if name in ('pwrite64', 'write', 'pread64', 'read', 'writev', 'readv'):
                    # what kind of fd: look at kernel frames
                    if any('tcp' in s or 'sock' in s or 'unix_stream' in s for s, _ in frames):
                        return 'kernel: network I/O (loopback TCP, sockets)'
                    return 'kernel: file reads and writes'
                if name in ('sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'epoll_wait', 'accept4', 'shutdown', 'close'):
                    return 'kernel: network I/O (loopback TCP, sockets)'
                if name == 'futex': return 'kernel: futex (thread hand-offs, locks)'
                return 'kernel: other syscalls (%s)' % name
        if any('irq' in s or 'softirq' in s or 'net_rx' in s for s, _ in frames):
            return 'kernel: interrupts, loopback networking'
        return 'kernel: other'
    for sym, _ in frames:
        for name, rule in USER_RULES:
            if name.startswith('allocator'):
                continue
            if rule.search(sym):
                return name
    if frames:
        for name, rule in USER_RULES:
            if rule.search(frames[0][0]):
                return name
    return 'other user space'

def samples(stream):
    frames = []
    for line in stream:
        line = line.rstrip('\n')
        if not line.strip():
            if frames:
                yield frames
            frames = []
            continue
        if not line.startswith((' ', '\t')):
            THREADS[re.sub(r'[-_ ]?\d+$', '', line.strip())] += 1
            continue
        if line.startswith((' ', '\t')):
            parts = line.strip().split(None, 1)
            if len(parts) == 2:
                rest = parts[1]
                m = re.match(r'(.*) \((.*)\)$', rest)
                if m:
                    sym, dso = m.group(1), m.group(2)
                else:
                    sym, dso = rest, ''
                sym = re.sub(r'\+0x[0-9a-f]+$', '', sym)
                frames.append((sym, dso))
    if frames:
        yield frames

THREADS = collections.Counter()
counts = collections.Counter()
total = 0
for frames in samples(sys.stdin):
    counts[categorize(frames)] += 1
    total += 1
print('| where the server core went | share |')
print('| --- | --- |')
for name, count in counts.most_common():
    if count * 100.0 / total >= 0.5:
        print('| %s | %.1f%% |' % (name, count * 100.0 / total))
print('| (samples: %d) | |' % total)
print()
print('| thread | share |')
print('| --- | --- |')
for name, count in THREADS.most_common(6):
    print('| %s | %.1f%% |' % (name, count * 100.0 / max(1, sum(THREADS.values()))))
