// The flood's native engine: the short-conn-client's loop (one new TCP connection per GET, closed or open
// model) on non-blocking sockets and epoll, as wrk runs it. A Node socket costs tens of microseconds of
// JavaScript per connection on top of the kernel's work, which holds one event loop near half of wrk's rate;
// here each connection is socket, connect, write, read until EOF, close and the epoll calls around them.
// The loop runs in slices (step) on a worker thread, so that thread's event loop still takes its messages
// and reports stats between slices; or, for a lab host served by an agent of many hosts, whole on a thread of its
// own that entered the host's network namespace for its life (runIn), so its sockets are that host's. Every figure comes from a syscall's result: errors by errno and syscall.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "netns_enter.h"

// A head split across reads is kept in a buffer that grows to at most this (node sets no limit; one read takes 64 KiB).
#define HEAD_MAX (1024 * 1024)
#define HEAD_FIRST 4096
#define STATUS_OFFSET 99
#define READ_SIZE 65536
#define EVENTS 256
#define MAX_ERRORS 64
// A response status outside 200-399 as an error code: HTTP_<status>, as expected-status.ts names it in the node engine.
#define HTTP_STATUS_CODE(status) (-1000 - (status))
#define HTTP_UNPARSED_CODE (-4)
// The server closed before a response began: a lost request (short-conn-loop.ts names it the same).
#define EOF_BEFORE_RESPONSE_CODE (-5)
// Latency in µs: exact below 2048, then 1024 steps per power of two (under 0.1% apart) up to 2^32 µs.
#define LAT_SUB 1024
#define LAT_BUCKETS (2048 + 22 * LAT_SUB)
// Timeouts are looked for this often (ns): an idle timeout is seconds, so 10 ms of lateness is noise.
#define IDLE_SCAN_NS 10000000LL

enum slot_state { FREE, CONNECTING, READING, DRAINING };
enum closer { CLOSER_SERVER, CLOSER_CLIENT };
enum close_style { GRACEFUL, RST, CLOSE_NOW };

struct slot {
  int fd;
  uint32_t gen;
  enum slot_state state;
  int64_t t0;      // ns, when connect() began
  int64_t last;    // ns, last progress (for the idle timeout)
  double begun_ms; // run clock, for the first-error mark
  uint32_t written;
  uint32_t head_len, head_cap;
  int64_t head_end; // bytes of head incl. CRLFCRLF, -1 until seen
  int64_t expected; // head + Content-Length, -1 when the body runs to EOF
  int64_t received;
  bool completed;
  // Only for a head split across reads (most arrive whole in one): kept here until its end is in.
  char *head;
};

struct error_count {
  int code; // errno, or -1 for REQUEST_TIMEOUT, -2 for HEAD_TOO_LARGE, -3 for kinds past the table's size,
            // -4 for HTTP_UNPARSED, -5 for EOF_BEFORE_RESPONSE, HTTP_STATUS_CODE(status) for HTTP_<status>
  const char *syscall;
  double count;
  double first_ms;
};

struct flood {
  int epfd;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  int family;
  char *request;
  uint32_t request_len;
  bool open_model;
  uint32_t max_in_flight;
  double interval_ms, phase_ms, max_lateness_ms;
  int64_t duration_ns;
  double count; // -1: none
  int64_t idle_ns;
  enum closer closer;
  enum close_style close_style;
  // run clock (ms) at start, and the monotonic ns it corresponds to
  double start_run_ms;
  int64_t start_ns;
  bool stopping, cut, destroyed, plain_epoll_wait;
  // JavaScript's calls waiting for the lock of a flood on its own thread (runIn): the thread lets them in first.
  atomic_int waiters;
  double ended_ms; // run clock; < 0 until the load ended
  double next_arrival;
  int64_t next_idle_scan;
  // the FirstErrorMark's memory, shared with the other workers (first-error-mark.ts)
  int32_t *mark_ints;
  double *mark_at;
  struct slot *slots;
  uint32_t nslots;
  uint32_t *free_list;
  uint32_t nfree;
  double attempts, connected, responses, ok, missed, in_flight, window_connected, peer_closed, cut_at_end, reset_on_give_up;
  double statuses[STATUS_OFFSET + 1000]; // -99..999
  double status_nan;
  struct error_count errors[MAX_ERRORS];
  int nerrors;
  int first_error; // index into errors, -1
  uint64_t *latency;
  char *read_buf;
  // runIn: the loop runs on `thread`, which holds `lock` except while it waits in epoll; every call from
  // JavaScript (stats, stop, destroy) takes the lock, so it waits at most for one batch of events.
  bool threaded, thread_ended;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t entered;
  int enter_err;
  const char *enter_what;
  bool enter_done;
  char ns_path[256];
  napi_threadsafe_function on_end;
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double run_ms(struct flood *f, int64_t t) { return f->start_run_ms + (double)(t - f->start_ns) / 1e6; }

static void note_error(struct flood *f, int code, const char *syscall, int64_t t) {
  double at = run_ms(f, t);
  // The first-error mark all workers share: first claimer writes the time, then publishes (as Atomics does).
  // A response's status is no failure of a connection: the node engine leaves the mark to socket errors too.
  bool by_status = code <= HTTP_STATUS_CODE(0) || code == HTTP_UNPARSED_CODE;
  int32_t expected = 0;
  if (!by_status && __atomic_compare_exchange_n(&f->mark_ints[0], &expected, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    *f->mark_at = at;
    __atomic_store_n(&f->mark_ints[0], 2, __ATOMIC_SEQ_CST);
  }
  for (int i = 0; i < f->nerrors; i++) {
    if (f->errors[i].code == code && strcmp(f->errors[i].syscall, syscall) == 0) {
      f->errors[i].count++;
      return;
    }
  }
  if (f->nerrors == MAX_ERRORS - 1) {
    // Kinds past what the table holds are counted together in its last entry, never dropped.
    code = -3;
    syscall = "various";
  } else if (f->nerrors == MAX_ERRORS) {
    f->errors[MAX_ERRORS - 1].count++;
    return;
  }
  struct error_count *e = &f->errors[f->nerrors];
  e->code = code;
  e->syscall = syscall;
  e->count = 1;
  e->first_ms = at;
  if (f->first_error < 0) f->first_error = f->nerrors;
  f->nerrors++;
}

static void mark_connected(struct flood *f, double begun_ms) {
  if (__atomic_load_n(&f->mark_ints[0], __ATOMIC_SEQ_CST) != 2 || begun_ms < *f->mark_at) __atomic_fetch_add(&f->mark_ints[1], 1, __ATOMIC_SEQ_CST);
}

static void record_latency(struct flood *f, int64_t ns) {
  uint64_t us = (uint64_t)((ns + 500) / 1000);
  if (us < 1) us = 1;
  if (us >= (1ULL << 32)) us = (1ULL << 32) - 1;
  uint32_t idx;
  if (us < 2048) {
    idx = (uint32_t)us;
  } else {
    int e = 63 - __builtin_clzll(us) - 10; // us >> e is in [1024, 2048)
    idx = 2048 + (uint32_t)(e - 1) * LAT_SUB + (uint32_t)((us >> e) - 1024);
  }
  f->latency[idx]++;
}

static uint64_t latency_value(uint32_t idx) {
  if (idx < 2048) return idx;
  uint32_t e = (idx - 2048) / LAT_SUB + 1;
  return (uint64_t)(1024 + (idx - 2048) % LAT_SUB) << e;
}

// No new connection starts (the count or the duration is reached); those in flight go on until end_load().
static void finish_load(struct flood *f, int64_t t) {
  if (f->stopping) return;
  f->stopping = true;
  f->ended_ms = run_ms(f, t);
}

static bool limit_reached(struct flood *f, int64_t t) {
  return t - f->start_ns >= f->duration_ns || (f->count >= 0 && f->attempts + f->missed >= f->count);
}

static void release(struct flood *f, struct slot *s) {
  if (s->fd >= 0) close(s->fd); // close(2) also takes the fd out of the epoll set
  s->fd = -1;
  free(s->head);
  s->head = NULL;
  s->head_cap = 0;
  s->state = FREE;
  s->gen++;
  f->free_list[f->nfree++] = (uint32_t)(s - f->slots);
  f->in_flight--;
}

static void close_rst(struct slot *s) {
  struct linger l = {.l_onoff = 1, .l_linger = 0};
  setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

// The client gives a connection up (an idle timeout, the load's end). closeStyle rst is SO_LINGER 0 on the socket, so
// a connected one ends by RST: a FIN would leave an orphan in FIN_WAIT1 holding the local port while the peer stays
// silent. A connect still in progress is closed plainly: SYN_SENT sends no RST either way, and a zero-linger close
// would count it in TCPAbortOnData as if a connection had been aborted.
static void give_up(struct flood *f, struct slot *s) {
  if (f->close_style == RST && s->state != CONNECTING) {
    close_rst(s);
    f->reset_on_give_up++;
  }
  release(f, s);
}

// The load's end bounds every connection: a server that trickles a byte now and then keeps the idle timeout from
// firing, so whatever is still in flight one idle timeout after the duration (or at stop()) is closed here, counted as
// cut where its response was not in. A connection that makes progress gets that long to finish, as it did before, so
// counts that a whole load should reach (one response per request) are not cut short. One pass over the slots.
static void end_load(struct flood *f, int64_t t) {
  finish_load(f, t);
  if (f->cut) return;
  f->cut = true;
  for (uint32_t i = 0; i < f->nslots; i++) {
    struct slot *s = &f->slots[i];
    if (s->state == FREE) continue;
    if (!s->completed) f->cut_at_end++;
    give_up(f, s);
  }
}

// A connection starts on its own reading of the clock: a round may start hundreds, and each takes a few µs.
static void attempt(struct flood *f) {
  int64_t t = now_ns();
  f->attempts++;
  f->in_flight++;
  struct slot *s = &f->slots[f->free_list[--f->nfree]];
  s->t0 = t;
  s->last = t;
  s->begun_ms = run_ms(f, t);
  s->written = 0;
  s->head_len = 0;
  s->head_end = -1;
  s->expected = -1;
  s->received = 0;
  s->completed = false;
  s->fd = socket(f->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    note_error(f, errno, "socket", t);
    release(f, s);
    return;
  }
  if (connect(s->fd, (struct sockaddr *)&f->addr, f->addr_len) < 0 && errno != EINPROGRESS) {
    // EADDRNOTAVAIL: no local port left toward this destination (ip_local_port_range, TIME_WAIT).
    note_error(f, errno, "connect", t);
    release(f, s);
    return;
  }
  s->state = CONNECTING;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = ((uint64_t)s->gen << 32) | (uint32_t)(s - f->slots)};
  if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
    note_error(f, errno, "epoll_ctl", t);
    release(f, s);
  }
}

static void complete(struct flood *f, struct slot *s, int64_t t) {
  if (s->completed) return;
  s->completed = true;
  f->responses++;
  record_latency(f, t - s->t0);
}

// The status as the node engine reads it, Number(head.slice(9, 12)), for what those three bytes can hold: blanks
// around an integer (blank alone is 0); anything else is NaN. Returns STATUS_NAN or -99..999.
#define STATUS_NAN INT32_MIN
static int read_status(const char *text, int64_t text_len) {
  const char *p = text + (text_len < 9 ? text_len : 9);
  const char *end = text + (text_len < 12 ? text_len : 12);
  while (p < end && isspace((unsigned char)*p)) p++;
  while (end > p && isspace((unsigned char)end[-1])) end--;
  if (p == end) return 0;
  int sign = 1;
  if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
  if (p == end) return STATUS_NAN;
  int value = 0;
  for (; p < end; p++) {
    if (!isdigit((unsigned char)*p)) return STATUS_NAN;
    value = value * 10 + (*p - '0');
  }
  return sign * value;
}

// The head is buf[0, head_end), its CRLFCRLF included: the status and Content-Length, read as the node engine reads
// them (short-conn-loop.ts): read_status, and the first `\r\ncontent-length:[ \t]*(\d+)`.
static void parse_head(struct flood *f, struct slot *s, const char *buf, int64_t head_end, int64_t t) {
  s->head_end = head_end;
  const char *text_end = buf + head_end - 4;
  int status = read_status(buf, head_end - 4);
  if (status == STATUS_NAN) f->status_nan++;
  else f->statuses[status + STATUS_OFFSET]++;
  // Only the default expect set (200-399) runs here; any other status is an error of the flood, by status.
  if (status >= 200 && status < 400) f->ok++;
  else note_error(f, status >= 100 && status <= 999 ? HTTP_STATUS_CODE(status) : HTTP_UNPARSED_CODE, "response", t);
  for (const char *p = buf; p < text_end;) {
    const char *line = memmem(p, (size_t)(text_end - p), "\r\n", 2);
    if (!line) break;
    const char *q = line + 2;
    if (text_end - q >= 15 && strncasecmp(q, "content-length:", 15) == 0) {
      q += 15;
      while (q < text_end && (*q == ' ' || *q == '\t')) q++;
      int64_t n = 0;
      int digits = 0;
      bool any = false;
      for (; q < text_end && isdigit((unsigned char)*q); q++) {
        any = true;
        if (digits == 0 && *q == '0') continue; // leading zeros count for nothing
        if (++digits <= 15) n = n * 10 + (*q - '0');
      }
      // More than 15 significant digits: a body longer than any flood reads, so it ends only at EOF, uncounted, as in node.
      if (any) {
        s->expected = digits > 15 ? INT64_MAX : head_end + n;
        break;
      }
    }
    p = line + 2;
  }
}

// After the whole response: the client closes first (closer client) or waits for the server's FIN.
static void after_response(struct flood *f, struct slot *s) {
  if (f->closer == CLOSER_SERVER) return;
  if (f->close_style == GRACEFUL) {
    shutdown(s->fd, SHUT_WR); // FIN: FIN_WAIT1/2 until the server's FIN, then TIME_WAIT here
    s->state = DRAINING;
    return;
  }
  if (f->close_style == RST) close_rst(s);
  release(f, s);
}

static void on_readable(struct flood *f, struct slot *s, int64_t t) {
  for (;;) {
    ssize_t n = read(s->fd, f->read_buf, READ_SIZE);
    if (n < 0) {
      if (errno == EAGAIN) return;
      if (errno == EINTR) continue;
      note_error(f, errno, "read", t);
      release(f, s);
      return;
    }
    s->last = t;
    if (n == 0) {
      // The peer's FIN. A body delimited by EOF is complete; close(2) sends our FIN (or ends FIN_WAIT2).
      f->peer_closed++;
      if (s->head_end >= 0 && s->expected < 0 && !s->completed) {
        complete(f, s, t);
        if (f->closer == CLOSER_CLIENT && f->close_style == RST) close_rst(s);
      } else if (s->head_end < 0) {
        note_error(f, EOF_BEFORE_RESPONSE_CODE, "read", t);
      }
      release(f, s);
      return;
    }
    if (s->state == DRAINING) continue;
    s->received += n;
    if (s->head_end < 0) {
      if (!s->head) {
        const char *end = memmem(f->read_buf, (size_t)n, "\r\n\r\n", 4);
        if (end) parse_head(f, s, f->read_buf, end - f->read_buf + 4, t);
      }
      if (s->head_end < 0) {
        uint32_t before = s->head_len;
        if (before + (uint64_t)n > s->head_cap) {
          if (before + (uint64_t)n > HEAD_MAX) {
            note_error(f, -2, "none", t);
            release(f, s);
            return;
          }
          uint32_t cap = s->head_cap ? s->head_cap : HEAD_FIRST;
          while (cap < before + (uint64_t)n) cap *= 2;
          char *grown = realloc(s->head, cap);
          if (!grown) {
            note_error(f, ENOMEM, "malloc", t);
            release(f, s);
            return;
          }
          s->head = grown;
          s->head_cap = cap;
        }
        memcpy(s->head + before, f->read_buf, (size_t)n);
        s->head_len += (uint32_t)n;
        uint32_t from = before >= 3 ? before - 3 : 0;
        const char *end = memmem(s->head + from, s->head_len - from, "\r\n\r\n", 4);
        if (!end) continue;
        parse_head(f, s, s->head, end - s->head + 4, t);
      }
      if (s->expected < 0) continue;
    }
    if (s->expected >= 0 && s->received >= s->expected && !s->completed) {
      complete(f, s, t);
      after_response(f, s);
      if (s->state == FREE) return;
    }
  }
}

static void on_event(struct flood *f, struct slot *s, uint32_t events, int64_t t) {
  if (s->state == CONNECTING) {
    if (events & EPOLLERR) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      note_error(f, err ? err : EIO, "connect", t); // ECONNREFUSED, ETIMEDOUT, ...
      release(f, s);
      return;
    }
    if (!(events & EPOLLOUT)) return;
    s->state = READING;
    s->last = t;
    f->connected++;
    mark_connected(f, s->begun_ms);
    if (s->t0 - f->start_ns < 1000000000LL) f->window_connected++;
  }
  if (s->state == READING && s->written < f->request_len) {
    ssize_t n = send(s->fd, f->request + s->written, f->request_len - s->written, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      note_error(f, errno, "write", t);
      release(f, s);
      return;
    }
    if (n > 0) s->written += (uint32_t)n;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(f, s, t);
}

static void scan_idle(struct flood *f, int64_t t) {
  for (uint32_t i = 0; i < f->nslots; i++) {
    struct slot *s = &f->slots[i];
    if (s->state != FREE && t - s->last >= f->idle_ns) {
      note_error(f, -1, "none", t);
      give_up(f, s);
    }
  }
}

static void start_due(struct flood *f, int64_t t) {
  if (f->stopping) return;
  if (!f->open_model) {
    // Each free slot once per round: a connect() failing at once (EADDRNOTAVAIL) frees its slot again, and the
    // next round comes after epoll and a fresh clock, as the node engine's next attempt comes on a later tick.
    for (uint32_t room = f->nfree; room > 0; room--) {
      if (limit_reached(f, t)) return finish_load(f, t);
      attempt(f);
    }
    if (limit_reached(f, t)) finish_load(f, t);
    return;
  }
  // The open model (arrival-schedule.ts): start i is due at phase + i * interval; a late start or one that
  // finds max_in_flight busy is missed, never delayed.
  double elapsed = (double)(t - f->start_ns) / 1e6 - f->phase_ms;
  while (f->next_arrival * f->interval_ms <= elapsed) {
    if (limit_reached(f, t)) return finish_load(f, t);
    if (elapsed - f->next_arrival * f->interval_ms > f->max_lateness_ms || f->in_flight >= f->max_in_flight) f->missed++;
    else attempt(f);
    f->next_arrival++;
  }
  if (limit_reached(f, t)) finish_load(f, t);
}

static void destroy_all(struct flood *f);

static bool done(struct flood *f) { return f->destroyed || (f->stopping && f->in_flight == 0); }

// Runs the loop for up to budget_ms; true once the load has ended and no connection is in flight.
static bool run_slice(struct flood *f, double budget_ms) {
  struct epoll_event events[EVENTS];
  int64_t t = now_ns();
  int64_t until = t + (int64_t)(budget_ms * 1e6);
  int64_t end = f->start_ns + f->duration_ns;
  int64_t cut = end + f->idle_ns;
  while (!done(f)) {
    start_due(f, t);
    if (t >= end) finish_load(f, t);
    if (t >= cut) end_load(f, t);
    if (done(f)) break;
    int64_t wait = until - t;
    if (f->open_model && !f->stopping) {
      int64_t due = f->start_ns + (int64_t)((f->phase_ms + f->next_arrival * f->interval_ms) * 1e6);
      if (due - t < wait) wait = due - t;
    }
    if (!f->stopping && end - t < wait) wait = end - t;
    if (cut - t < wait) wait = cut - t;
    if (f->next_idle_scan - t < wait) wait = f->next_idle_scan - t;
    // Slots freed by connects that failed at once are filled again after one look at epoll, not a wait.
    if (wait < 0 || (!f->open_model && !f->stopping && f->nfree > 0)) wait = 0;
    int n;
    if (f->threaded) pthread_mutex_unlock(&f->lock);
    if (f->plain_epoll_wait) {
      n = epoll_wait(f->epfd, events, EVENTS, (int)((wait + 999999) / 1000000));
    } else {
      struct timespec ts = {.tv_sec = wait / 1000000000LL, .tv_nsec = wait % 1000000000LL};
      n = epoll_pwait2(f->epfd, events, EVENTS, &ts, NULL);
    }
    int wait_err = errno;
    if (f->threaded) {
      // glibc's mutex is not fair: a thread that takes it back at once can keep stats() (and the event loop of an
      // agent of 50 hosts) waiting for as long as its errors come at once. A waiting call goes first.
      while (atomic_load(&f->waiters) > 0) sched_yield();
      pthread_mutex_lock(&f->lock);
    }
    errno = wait_err;
    // stop or destroy may have come from JavaScript while the lock was free: nothing of a destroyed flood is read.
    if (f->destroyed) break;
    if (n < 0) {
      int err = errno;
      n = 0;
      // epoll_pwait2 (ns timeouts) is Linux 5.11 and later, and a container's seccomp filter may refuse it.
      if (!f->plain_epoll_wait && (err == ENOSYS || err == EPERM)) {
        f->plain_epoll_wait = true;
      } else if (err != EINTR) {
        note_error(f, err, "epoll_wait", now_ns());
        destroy_all(f);
        break;
      }
    }
    t = now_ns();
    for (int i = 0; i < n; i++) {
      uint32_t idx = (uint32_t)events[i].data.u64;
      struct slot *s = &f->slots[idx];
      if (s->gen != (uint32_t)(events[i].data.u64 >> 32) || s->state == FREE) continue;
      on_event(f, s, events[i].events, now_ns()); // a batch holds up to EVENTS completions: each on its own time
    }
    if (t >= f->next_idle_scan) {
      scan_idle(f, t);
      f->next_idle_scan = t + IDLE_SCAN_NS;
    }
    if (t >= until) break;
  }
  return done(f);
}

static void destroy_all(struct flood *f) {
  if (f->destroyed) return;
  finish_load(f, now_ns());
  for (uint32_t i = 0; i < f->nslots; i++)
    if (f->slots[i].state != FREE) release(f, &f->slots[i]);
  f->destroyed = true;
}

// The lock as JavaScript's side takes it: counted as waiting, so that the flood's thread lets it in (run_slice).
static void lock_for_js(struct flood *f) {
  atomic_fetch_add(&f->waiters, 1);
  pthread_mutex_lock(&f->lock);
  atomic_fetch_sub(&f->waiters, 1);
}

static void free_flood(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct flood *f = data;
  if (f->threaded) {
    lock_for_js(f);
    destroy_all(f);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->entered);
  }
  destroy_all(f);
  if (f->epfd >= 0) close(f->epfd);
  free(f->request);
  free(f->slots);
  free(f->free_list);
  free(f->latency);
  free(f->read_buf);
  free(f);
}

// ---- N-API glue ----

static bool get_number(napi_env env, napi_value obj, const char *key, double *out) {
  napi_value v;
  napi_valuetype type;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &type) != napi_ok || type != napi_number) return false;
  return napi_get_value_double(env, v, out) == napi_ok;
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static struct flood *unwrap(napi_env env, napi_callback_info info, napi_value *argv, size_t want) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  if (argc < want || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "expected a flood from open()");
    return NULL;
  }
  return data;
}

// open(config, request, mark): a flood whose clock starts now; step() runs it. config's numbers are checked by the caller's plan
// (short-conn-options.ts) and again here for what memory depends on.
static napi_value open_flood(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return fail(env, "open(config, request, mark)");
  double family, port, open_model, concurrency, max_in_flight, rate, phase, lateness, duration, count, idle, closer, close_style, start_run;
  if (!get_number(env, argv[0], "family", &family) || !get_number(env, argv[0], "port", &port) || !get_number(env, argv[0], "openModel", &open_model) ||
      !get_number(env, argv[0], "concurrency", &concurrency) || !get_number(env, argv[0], "maxInFlight", &max_in_flight) || !get_number(env, argv[0], "rate", &rate) ||
      !get_number(env, argv[0], "phaseMs", &phase) || !get_number(env, argv[0], "maxLatenessMs", &lateness) || !get_number(env, argv[0], "durationMs", &duration) ||
      !get_number(env, argv[0], "count", &count) || !get_number(env, argv[0], "idleTimeoutMs", &idle) || !get_number(env, argv[0], "closer", &closer) ||
      !get_number(env, argv[0], "closeStyle", &close_style) || !get_number(env, argv[0], "startRunMs", &start_run))
    return fail(env, "open(config): a number missing");
  // Checked before any cast: a double out of an integer's range is undefined behaviour in C.
  if ((family != 4 && family != 6) || !(port >= 1 && port <= 65535) || !(concurrency >= 1 && concurrency <= 1e6) || !(max_in_flight >= 1 && max_in_flight <= 1e6) ||
      !(rate > 0 && rate <= 1e7) || !(duration > 0 && duration <= 864e5) || !(idle > 0 && idle <= 864e5) || !(count >= -1 && count <= 1e9) ||
      !(phase >= 0 && phase <= 864e5) || !(lateness >= 0 && lateness <= 864e5) || !isfinite(start_run))
    return fail(env, "open(config): family 4 or 6, port 1-65535, 1 to 1,000,000 connections, a rate, duration, idle timeout, phase and lateness in range, a count of -1 (none) or more");
  uint32_t slots = (uint32_t)(open_model ? max_in_flight : concurrency);
  char address[INET6_ADDRSTRLEN + 1];
  size_t address_len = 0;
  napi_value v;
  if (napi_get_named_property(env, argv[0], "address", &v) != napi_ok || napi_get_value_string_utf8(env, v, address, sizeof address, &address_len) != napi_ok)
    return fail(env, "open(config): address must be a string");
  void *request;
  size_t request_len;
  bool is_buffer = false;
  napi_is_buffer(env, argv[1], &is_buffer);
  if (!is_buffer || napi_get_buffer_info(env, argv[1], &request, &request_len) != napi_ok || request_len == 0 || request_len > UINT32_MAX)
    return fail(env, "open(request): a non-empty Buffer");
  napi_typedarray_type mark_type;
  size_t mark_len;
  void *mark;
  bool is_typed = false;
  napi_is_typedarray(env, argv[2], &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, argv[2], &mark_type, &mark_len, &mark, NULL, NULL) != napi_ok || mark_type != napi_int32_array || mark_len < 4)
    return fail(env, "open(mark): an Int32Array of 4 over the FirstErrorMark's memory");

  struct flood *f = calloc(1, sizeof *f);
  if (!f) return fail(env, "out of memory");
  f->epfd = -1;
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)&f->addr;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &a->sin_addr) != 1) goto bad_address;
    f->addr_len = sizeof *a;
    f->family = AF_INET;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&f->addr;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, address, &a->sin6_addr) != 1) goto bad_address;
    f->addr_len = sizeof *a;
    f->family = AF_INET6;
  }
  f->request = malloc(request_len);
  f->slots = calloc(slots, sizeof *f->slots);
  f->free_list = malloc(slots * sizeof *f->free_list);
  f->latency = calloc(LAT_BUCKETS, sizeof *f->latency);
  f->read_buf = malloc(READ_SIZE);
  f->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (!f->request || !f->slots || !f->free_list || !f->latency || !f->read_buf || f->epfd < 0) {
    free_flood(env, f, NULL);
    return fail(env, "open(): out of memory or descriptors");
  }
  memcpy(f->request, request, request_len);
  f->request_len = (uint32_t)request_len;
  f->nslots = slots;
  for (uint32_t i = 0; i < slots; i++) {
    f->slots[i].fd = -1;
    f->free_list[i] = slots - 1 - i;
  }
  f->nfree = slots;
  f->open_model = open_model != 0;
  f->max_in_flight = (uint32_t)max_in_flight;
  f->interval_ms = 1000.0 / rate;
  f->phase_ms = phase;
  f->max_lateness_ms = lateness;
  f->duration_ns = (int64_t)(duration * 1e6);
  f->count = count;
  f->idle_ns = (int64_t)(idle * 1e6);
  f->closer = closer ? CLOSER_CLIENT : CLOSER_SERVER;
  f->close_style = close_style == 1 ? RST : close_style == 2 ? CLOSE_NOW : GRACEFUL;
  // The load's clock starts now, with the run clock the caller read just before.
  f->start_run_ms = start_run;
  f->start_ns = now_ns();
  f->next_idle_scan = f->start_ns + IDLE_SCAN_NS;
  f->ended_ms = -1;
  f->first_error = -1;
  f->mark_ints = mark;
  f->mark_at = (double *)((char *)mark + 8);
  napi_value out;
  napi_create_external(env, f, free_flood, NULL, &out);
  return out;
bad_address:
  free(f);
  return fail(env, "open(config): address is not an IP address of that family");
}

static napi_value step(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct flood *f = unwrap(env, info, argv, 2);
  if (!f) return NULL;
  if (f->threaded) return fail(env, "step(flood): this flood runs on its own thread (runIn)");
  double budget;
  if (napi_get_value_double(env, argv[1], &budget) != napi_ok || !(budget >= 0 && budget <= 60000)) return fail(env, "step(flood, budgetMs): 0 to 60,000 ms");
  napi_value out;
  napi_get_boolean(env, run_slice(f, budget), &out);
  return out;
}

// stop(flood): the load ends now; connections in flight are closed.
static napi_value stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct flood *f = unwrap(env, info, argv, 1);
  if (!f) return NULL;
  if (f->threaded) lock_for_js(f);
  if (!f->destroyed) end_load(f, now_ns());
  if (f->threaded) pthread_mutex_unlock(&f->lock);
  return NULL;
}

// destroy(flood): every connection closed at once.
static napi_value destroy(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct flood *f = unwrap(env, info, argv, 1);
  if (!f) return NULL;
  if (f->threaded) lock_for_js(f);
  destroy_all(f);
  if (f->threaded) pthread_mutex_unlock(&f->lock);
  return NULL;
}

static void set_number(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

static napi_value code_name(napi_env env, int code) {
  const char *name = code == -1 ? "REQUEST_TIMEOUT" : code == -2 ? "HEAD_TOO_LARGE" : code == -3 ? "OTHER_ERRORS" : code == HTTP_UNPARSED_CODE ? "HTTP_UNPARSED" : code == EOF_BEFORE_RESPONSE_CODE ? "EOF_BEFORE_RESPONSE" : code <= HTTP_STATUS_CODE(0) ? NULL : strerrorname_np(code);
  char fallback[32];
  if (code <= HTTP_STATUS_CODE(0)) {
    snprintf(fallback, sizeof fallback, "HTTP_%d", -1000 - code);
    name = fallback;
  } else if (!name) {
    snprintf(fallback, sizeof fallback, "ERRNO_%d", code);
    name = fallback;
  }
  napi_value v;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  return v;
}

// stats(flood): the counts so far, errors as [{code, syscall, count, firstAtMs}], the latency histogram as
// [µs, count, µs, count, ...] of its non-empty buckets.
static napi_value stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct flood *f = unwrap(env, info, argv, 1);
  if (!f) return NULL;
  if (f->threaded) lock_for_js(f);
  napi_value out, statuses, errors, latency;
  napi_create_object(env, &out);
  set_number(env, out, "attempts", f->attempts);
  set_number(env, out, "connected", f->connected);
  set_number(env, out, "responses", f->responses);
  set_number(env, out, "ok", f->ok);
  set_number(env, out, "missedStarts", f->missed);
  set_number(env, out, "inFlight", f->in_flight);
  set_number(env, out, "windowConnected", f->window_connected);
  set_number(env, out, "peerClosed", f->peer_closed);
  set_number(env, out, "cutAtLoadEnd", f->cut_at_end);
  set_number(env, out, "resetOnGiveUp", f->reset_on_give_up);
  set_number(env, out, "startedAtMs", f->start_run_ms);
  set_number(env, out, "elapsedMs", (double)(now_ns() - f->start_ns) / 1e6);
  set_number(env, out, "endedAtMs", f->ended_ms);
  napi_create_object(env, &statuses);
  for (int i = 0; i < STATUS_OFFSET + 1000; i++) {
    if (!f->statuses[i]) continue;
    char key[8];
    snprintf(key, sizeof key, "%d", i - STATUS_OFFSET);
    set_number(env, statuses, key, f->statuses[i]);
  }
  if (f->status_nan) set_number(env, statuses, "NaN", f->status_nan);
  napi_set_named_property(env, out, "statuses", statuses);
  napi_create_array_with_length(env, (size_t)f->nerrors, &errors);
  for (int i = 0; i < f->nerrors; i++) {
    napi_value e, syscall;
    napi_create_object(env, &e);
    napi_set_named_property(env, e, "code", code_name(env, f->errors[i].code));
    napi_create_string_utf8(env, f->errors[i].syscall, NAPI_AUTO_LENGTH, &syscall);
    napi_set_named_property(env, e, "syscall", syscall);
    set_number(env, e, "count", f->errors[i].count);
    set_number(env, e, "firstAtMs", f->errors[i].first_ms);
    set_number(env, e, "first", i == f->first_error);
    napi_set_element(env, errors, (uint32_t)i, e);
  }
  napi_set_named_property(env, out, "errors", errors);
  uint32_t filled = 0;
  for (uint32_t i = 0; i < LAT_BUCKETS; i++) filled += f->latency[i] != 0;
  napi_value ab;
  void *data;
  napi_create_arraybuffer(env, filled * 2 * sizeof(double), &data, &ab);
  double *pairs = data;
  for (uint32_t i = 0, k = 0; i < LAT_BUCKETS; i++) {
    if (!f->latency[i]) continue;
    pairs[k++] = (double)latency_value(i);
    pairs[k++] = (double)f->latency[i];
  }
  napi_create_typedarray(env, napi_float64_array, filled * 2, ab, 0, &latency);
  napi_set_named_property(env, out, "latency", latency);
  if (f->threaded) pthread_mutex_unlock(&f->lock);
  return out;
}

// The thread of a flood that runs in a lab host: enters the host's namespace, says so to runIn, then runs the
// loop to its end and tells JavaScript (onEnd) from the event loop's side.
static void *run_in_namespace(void *arg) {
  struct flood *f = arg;
  pthread_mutex_lock(&f->lock);
  f->enter_err = enter_netns(f->ns_path, &f->enter_what);
  f->enter_done = true;
  pthread_cond_signal(&f->entered);
  if (f->enter_err) {
    pthread_mutex_unlock(&f->lock);
    return NULL;
  }
  // Each slice ends at least every IDLE_SCAN_NS and run_slice lets go of the lock in every wait.
  while (!run_slice(f, 1000)) {
  }
  f->thread_ended = true;
  pthread_mutex_unlock(&f->lock);
  napi_call_threadsafe_function(f->on_end, NULL, napi_tsfn_nonblocking);
  napi_release_threadsafe_function(f->on_end, napi_tsfn_release);
  return NULL;
}

static void call_on_end(napi_env env, napi_value js_callback, void *context, void *data) {
  (void)context;
  (void)data;
  if (!env || !js_callback) return; // the environment is going away: nobody waits for the end
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, js_callback, 0, NULL, NULL);
}

// runIn(flood, namespacePath, onEnd): runs a flood from open(), not yet stepped, to its end on a thread of its own
// inside the network namespace bound at namespacePath; onEnd() once the load ended and nothing is in flight.
// Throws (code: the errno's name) where the namespace cannot be entered.
static napi_value run_in(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct flood *f = unwrap(env, info, argv, 3);
  if (!f) return NULL;
  if (f->threaded || f->attempts > 0) return fail(env, "runIn(flood): a flood from open() that has not run yet");
  char *path = f->ns_path;
  size_t length = 0;
  napi_valuetype type;
  if (!whole_string(env, argv[1], path, sizeof f->ns_path, &length) || !netns_path_ok(path, length, sizeof f->ns_path) ||
      napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function)
    return fail(env, "runIn(flood, namespacePath, onEnd): an absolute path of a network namespace file, a function");
  napi_value name;
  napi_create_string_utf8(env, "waitlab:flood-in-namespace", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[2], NULL, name, 0, 1, NULL, NULL, NULL, call_on_end, &f->on_end) != napi_ok)
    return fail(env, "runIn(): cannot make the end's callback");
  pthread_mutex_init(&f->lock, NULL);
  pthread_cond_init(&f->entered, NULL);
  f->threaded = true;
  int err = pthread_create(&f->thread, NULL, run_in_namespace, f);
  if (err) {
    f->threaded = false;
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->entered);
    napi_release_threadsafe_function(f->on_end, napi_tsfn_abort);
    errno = err;
    return fail(env, "runIn(): pthread_create failed");
  }
  pthread_mutex_lock(&f->lock);
  while (!f->enter_done) pthread_cond_wait(&f->entered, &f->lock);
  int enter_err = f->enter_err;
  const char *what = f->enter_what;
  pthread_mutex_unlock(&f->lock);
  if (!enter_err) return NULL;
  pthread_join(f->thread, NULL);
  f->threaded = false;
  pthread_mutex_destroy(&f->lock);
  pthread_cond_destroy(&f->entered);
  napi_release_threadsafe_function(f->on_end, napi_tsfn_abort);
  char message[320];
  snprintf(message, sizeof message, "%s %s: %s", what, path, strerror(enter_err));
  napi_value code, msg, error;
  napi_create_string_utf8(env, strerrorname_np(enter_err) ? strerrorname_np(enter_err) : "EIO", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_throw(env, error);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, open_flood, NULL, NULL, NULL, napi_default, NULL},
      {"step", NULL, step, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, stop, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
      {"runIn", NULL, run_in, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
