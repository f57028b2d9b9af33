#!/usr/bin/env python3
# The helper process of the `listener` actor: a bare TCP listener whose socket options are exactly the
# ones asked for. Node cannot do this: libuv sets SO_REUSEADDR on every TCP bind. Plain syscalls here, so
# an errno is the kernel's own and is reported with the syscall that returned it.
#
# argv: <config JSON> <parent pid>. stdin: commands ("close", "destroy"), one per line; EOF = the agent is
# gone. stdout: JSON events, one per line: listening, stats, fatal.
import errno
import json
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time

config = json.loads(sys.argv[1])
parent = int(sys.argv[2])


def die_with_parent():
    # PR_SET_PDEATHSIG: the kernel kills us with SIGKILL when the agent dies, even by SIGKILL; the ppid
    # check covers an agent that died before the prctl.
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:
        pass
    if os.getppid() != parent:
        os._exit(0)


die_with_parent()

if config.get('nofile') is not None:
    n = int(config['nofile'])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Lowering is always allowed; raising above the inherited hard limit is not, and is not tried.
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), min(n, hard)))

# Times are reported on the run's clock: the agent passes its offset from CLOCK_MONOTONIC.
clock_offset_ms = float(config['clockOffsetMs'])
now_ms = lambda: time.monotonic() * 1000.0 + clock_offset_ms
RESPONSE = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
HEAD_END = b'\r\n\r\n'
# After EMFILE/ENFILE the connection stays in the kernel's accept queue: wait before trying again, as
# servers do (nginx stops accepting for a while), instead of spinning on an accept() that keeps failing.
ACCEPT_RETRY_MS = 50
RESTART_RETRY_MS = 100

sel = selectors.DefaultSelector()
counts = {'accepted': 0, 'replied': 0, 'closed': 0, 'open': 0, 'listens': 0, 'maxOpen': 0, 'firstBatch': None, 'maxBatch': 0, 'queuedAtResume': None}
errors = {}
first_error = None
restart = {'state': 'not-asked' if config.get('restartAfterAccepts') is None else 'waiting', 'tries': 0, 'atMs': None}
listener = None
accept_resume_ms = 0.0
timers = []  # (due_ms, fn)
conns = {}  # fd -> state dict
stats_dirty = True
last_stats_ms = float('-inf')


def emit(event):
    sys.stdout.write(json.dumps(event) + '\n')
    sys.stdout.flush()


def add_error(err, syscall):
    global first_error, stats_dirty
    code = errno.errorcode.get(err.errno, str(err.errno)) if isinstance(err, OSError) else str(err)
    e = errors.setdefault(code, {'count': 0, 'syscalls': {}, 'firstAtMs': now_ms()})
    e['count'] += 1
    e['syscalls'][syscall] = e['syscalls'].get(syscall, 0) + 1
    if first_error is None:
        first_error = {'code': code, 'syscall': syscall, 'atMs': e['firstAtMs']}
    stats_dirty = True


def limits():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {'nofile': {'soft': soft, 'hard': hard}}


def stats():
    return {
        **counts,
        'errors': errors,
        'errorCount': sum(e['count'] for e in errors.values()),
        'firstError': first_error,
        'restart': restart,
        'limits': limits(),
        'reuseAddr': bool(config['reuseAddr']),
        'backlog': config['backlog'],
    }


def open_listener(reuse_addr):
    """socket, [SO_REUSEADDR], bind, listen: raises OSError tagged with the failing syscall."""
    global listener
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if reuse_addr:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        step = 'bind'
        s.bind((config['host'], config['port']))
        step = 'listen'
        s.listen(config['backlog'])
    except OSError as err:
        s.close()
        err.syscall = step
        raise
    s.setblocking(False)
    listener = s
    counts['listens'] += 1
    register_listener()


def register_listener():
    if listener is not None and listener.fileno() not in sel.get_map():
        sel.register(listener, selectors.EVENT_READ, on_acceptable)


def unregister_listener():
    if listener is not None and listener.fileno() in sel.get_map():
        sel.unregister(listener)


def accept_allowed_at():
    return max(started_ms + config['acceptAfter'], accept_resume_ms)


def on_acceptable():
    global accept_resume_ms, stats_dirty
    t = now_ms()
    if t < accept_allowed_at():
        # Paused: leave the connection in the accept queue, where the kernel keeps it (or overflows).
        unregister_listener()
        timers.append((accept_allowed_at(), register_listener))
        return
    if counts['queuedAtResume'] is None and config['acceptAfter'] > 0:
        # The accept queue as the kernel holds it (sk_ack_backlog) when the pause ends.
        counts['queuedAtResume'] = listen_queue(config['port'])
    batch = 0
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            # One accept() run until EAGAIN: the first one after a pause is the accept queue's depth.
            if batch and counts['firstBatch'] is None:
                counts['firstBatch'] = batch
            counts['maxBatch'] = max(counts['maxBatch'], batch)
            return
        except OSError as err:
            add_error(err, 'accept')
            if err.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                accept_resume_ms = t + ACCEPT_RETRY_MS
                unregister_listener()
                timers.append((accept_resume_ms, register_listener))
            return
        conn.setblocking(False)
        batch += 1
        counts['accepted'] += 1
        counts['open'] += 1
        counts['maxOpen'] = max(counts['maxOpen'], counts['open'])
        stats_dirty = True
        state = {'sock': conn, 'buf': b'', 'head': False, 'eof': False, 'due': t + config['hold'], 'replied': False}
        conns[conn.fileno()] = state
        sel.register(conn, selectors.EVENT_READ, lambda st=state: on_readable(st))
        timers.append((state['due'], lambda st=state: maybe_reply(st)))
        if config['acceptEvery'] > 0:
            accept_resume_ms = t + config['acceptEvery']
            unregister_listener()
            timers.append((accept_resume_ms, register_listener))
            return


def on_readable(st):
    try:
        data = st['sock'].recv(65536)
    except BlockingIOError:
        return
    except OSError as err:
        add_error(err, 'read')
        finish(st)
        return
    if not data:
        st['eof'] = True
    else:
        st['buf'] = (st['buf'] + data)[-8192:]
        st['head'] = st['head'] or HEAD_END in st['buf']
    maybe_reply(st)


def maybe_reply(st):
    if st['replied'] or st['sock'].fileno() < 0:
        return
    if now_ms() < st['due']:
        return
    if config['reply'] == 'http' and not st['head'] and not st['eof']:
        return  # the request is not complete yet: closing with it unread would send an RST
    st['replied'] = True
    if config['reply'] == 'http' and not st['eof']:
        try:
            st['sock'].send(RESPONSE)
            counts['replied'] += 1
        except OSError as err:
            add_error(err, 'write')
    finish(st)


def finish(st):
    global stats_dirty
    sock = st['sock']
    if sock.fileno() < 0:
        return
    conns.pop(sock.fileno(), None)
    try:
        sel.unregister(sock)
    except (KeyError, ValueError):
        pass
    if config['closeStyle'] == 'rst':
        # SO_LINGER on with a zero timeout: close(2) sends an RST and the socket skips TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    sock.close()  # graceful: everything received was read, so a FIN, and this side closes first (TIME_WAIT here)
    counts['open'] -= 1
    counts['closed'] += 1
    stats_dirty = True
    maybe_restart()


TCP_STATES = {1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT', 7: 'CLOSE',
              8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING', 12: 'NEW_SYN_RECV'}


def port_states(port):
    """The kernel's sockets on a local port, by state, from this namespace's /proc/net/tcp."""
    out = {}
    with open('/proc/net/tcp') as f:
        next(f)
        for line in f:
            fields = line.split()
            if int(fields[1].split(':')[1], 16) == port:
                name = TCP_STATES.get(int(fields[3], 16), fields[3])
                out[name] = out.get(name, 0) + 1
    return out


def listen_queue(port):
    """rx_queue of the LISTEN socket on a port in /proc/net/tcp: for a listener, its accept queue's length."""
    with open('/proc/net/tcp') as f:
        next(f)
        for line in f:
            fields = line.split()
            if int(fields[1].split(':')[1], 16) == port and int(fields[3], 16) == 10:
                return int(fields[4].split(':')[1], 16)
    return None


def maybe_restart():
    global listener
    if restart['state'] != 'waiting' or counts['accepted'] < config['restartAfterAccepts'] or counts['open'] > 0:
        return
    unregister_listener()
    listener.close()
    listener = None
    # What holds the port at the moment of the restart, as the kernel lists it.
    restart['portStates'] = port_states(config['port'])
    restart['state'] = 'restarting'
    restart['atMs'] = now_ms()
    try_restart()


def try_restart():
    global stats_dirty
    restart['tries'] += 1
    stats_dirty = True
    try:
        open_listener(config['restartReuseAddr'])
    except OSError as err:
        add_error(err, err.syscall)
        if restart['tries'] < config['restartTries']:
            timers.append((now_ms() + RESTART_RETRY_MS, try_restart))
        else:
            restart['state'] = 'failed'
        return
    restart['state'] = 'listening'


def on_command():
    line = sys.stdin.readline()
    cmd = line.strip()
    if cmd == '' and line == '':
        os._exit(0)  # the agent is gone
    if cmd == 'destroy':
        os._exit(0)
    if cmd == 'close':
        if listener is not None:
            unregister_listener()
            listener.close()
        for st in list(conns.values()):
            finish(st)
        emit({'type': 'stats', 'stats': stats()})
        sys.exit(0)


started_ms = now_ms()
try:
    open_listener(config['reuseAddr'])
except OSError as err:
    add_error(err, err.syscall)
    emit({'type': 'fatal', 'code': first_error['code'], 'syscall': err.syscall, 'message': os.strerror(err.errno), 'stats': stats()})
    sys.exit(1)
sel.register(sys.stdin, selectors.EVENT_READ, on_command)
emit({'type': 'listening', 'stats': stats()})

while True:
    timers.sort(key=lambda x: x[0])
    wait = None
    if timers:
        wait = max(0.0, (timers[0][0] - now_ms()) / 1000.0)
    if stats_dirty:
        wait = 0.1 if wait is None else min(wait, 0.1)
    for key, _ in sel.select(wait):
        key.data()
    t = now_ms()
    while timers and timers[0][0] <= t:
        _, fn = timers.pop(0)
        fn()
    if stats_dirty and t - last_stats_ms >= 100:
        emit({'type': 'stats', 'stats': stats()})
        stats_dirty = False
        last_stats_ms = t
