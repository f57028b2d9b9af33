// A census counted where the dump is read: both families dumped, one row kept per 4-tuple (the last one the
// dump listed: a dump, like a table read, is not a snapshot), then counted by state, by role (the local port
// is a server port: planned, or seen listening in any census of this handle) and by IPv4 peer (the client's
// address on the server side, the server's ip:port on the ephemeral side). The same rules as
// src/sampler/proc-net-tcp.ts (TcpCensusTaker), which the lab tests hold it to.
//
// Result, an ArrayBuffer of uint32: [0] sockets, [1] repeats, [2] peers, [3..15] listen by state code 0..12,
// [16..28] ephemeral by state code, [29] the census's CPU time on its pool thread in µs, then per peer in order of
// first appearance: role (1 listen, 0 ephemeral), network-order IPv4 address, port (0 on the listen side), 13 counts
// by state code.
#define _GNU_SOURCE
#include "census.h"
#include "diag_dump.h"
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define STATE_COUNT 13
#define TCP_LISTEN 10
#define ALL_TCP_STATES 0x1ffe
#define CPU_WORD 29
#define HEADER 30
#define PEER_WORDS (3 + STATE_COUNT)

struct row {
  uint8_t family;
  uint8_t state;
  // idiag_sport, idiag_dport, idiag_src, idiag_dst as the kernel wrote them (network order): the 4-tuple.
  uint8_t tuple[36];
};

struct peer {
  uint32_t role;
  uint32_t ip;
  uint32_t port;
  uint32_t counts[STATE_COUNT];
};

// Open addressing over row (or peer) indices; an entry is live when its stamp is the table's generation.
struct index {
  uint32_t *slot;
  uint32_t *stamp;
  size_t mask;
  size_t size;
  uint32_t generation;
};

struct census {
  int fd;
  uint8_t server_port[65536];
  struct row *rows;
  size_t n, cap;
  uint32_t repeats;
  struct index tuples;
  struct peer *peers;
  size_t npeers, peer_cap;
  struct index peer_index;
  uint32_t listen[STATE_COUNT], ephemeral[STATE_COUNT];
  int err;
  uint32_t cpu_us;
  bool busy;
  // The kernel refused the one-dump request once: every later census dumps family by family.
  bool both_refused;
  napi_async_work work;
  napi_deferred deferred;
  napi_ref self;
};

static uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

static uint64_t hash_row(const struct row *r) {
  uint64_t h = r->family;
  for (size_t i = 0; i < sizeof r->tuple; i += 4) {
    uint32_t w;
    memcpy(&w, r->tuple + i, 4);
    h = mix(h ^ w);
  }
  return h;
}

static uint64_t hash_peer(uint32_t role, uint32_t ip, uint32_t port) { return mix(((uint64_t)role << 48) ^ ((uint64_t)ip << 16) ^ port); }

static int index_reset(struct index *x, size_t want) {
  if (want * 2 > x->mask + 1 || !x->slot) {
    size_t cap = 1024;
    while (cap < want * 2) cap <<= 1;
    uint32_t *slot = calloc(cap, sizeof *slot), *stamp = calloc(cap, sizeof *stamp);
    if (!slot || !stamp) {
      free(slot);
      free(stamp);
      return ENOMEM;
    }
    free(x->slot);
    free(x->stamp);
    x->slot = slot;
    x->stamp = stamp;
    x->mask = cap - 1;
    x->generation = 0;
  }
  if (++x->generation == 0) {
    memset(x->stamp, 0, (x->mask + 1) * sizeof *x->stamp);
    x->generation = 1;
  }
  x->size = 0;
  return 0;
}

// The row index already holding r's 4-tuple, or -1 after recording `next` for it. The table is sized for every
// row of the census before the first insert (index_reset), so it never fills.
static long row_of(struct census *c, const struct row *r, uint32_t next) {
  struct index *x = &c->tuples;
  for (size_t i = hash_row(r) & x->mask;; i = (i + 1) & x->mask) {
    if (x->stamp[i] != x->generation) {
      x->stamp[i] = x->generation;
      x->slot[i] = next;
      x->size++;
      return -1;
    }
    const struct row *seen = &c->rows[x->slot[i]];
    if (seen->family == r->family && memcmp(seen->tuple, r->tuple, sizeof r->tuple) == 0) return x->slot[i];
  }
}

static void add_record(const struct inet_diag_msg *msg, void *ctx) {
  struct census *c = ctx;
  if (c->err) return;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 4096;
    struct row *rows = realloc(c->rows, cap * sizeof *rows);
    if (!rows) {
      c->err = ENOMEM;
      return;
    }
    c->rows = rows;
    c->cap = cap;
  }
  struct row *r = &c->rows[c->n];
  r->family = msg->idiag_family == AF_INET6 ? 6 : 4;
  r->state = msg->idiag_state;
  memcpy(r->tuple, &msg->id.idiag_sport, 4);
  memcpy(r->tuple + 4, msg->id.idiag_src, 16);
  memcpy(r->tuple + 20, msg->id.idiag_dst, 16);
  c->n++;
}

static uint16_t local_port(const struct row *r) { return (uint16_t)(r->tuple[0] << 8 | r->tuple[1]); }
static uint16_t remote_port(const struct row *r) { return (uint16_t)(r->tuple[2] << 8 | r->tuple[3]); }

// The remote IPv4 address in host order (an IPv4-mapped one for AF_INET6); false for any other IPv6 address.
static bool remote_v4(const struct row *r, uint32_t *ip) {
  const uint8_t *a = r->tuple + 20;
  if (r->family == 6) {
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) != 0) return false;
    a += 12;
  }
  *ip = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
  return true;
}

static struct peer *peer_for(struct census *c, uint32_t role, uint32_t ip, uint32_t port) {
  struct index *x = &c->peer_index;
  if ((x->size + 1) * 2 > x->mask + 1) {
    // Grow and re-insert: peers keep their order of first appearance in c->peers.
    size_t want = (x->mask + 1);
    if (index_reset(x, want) != 0) return NULL;
    for (size_t k = 0; k < c->npeers; k++) {
      const struct peer *p = &c->peers[k];
      size_t i = hash_peer(p->role, p->ip, p->port) & x->mask;
      while (x->stamp[i] == x->generation) i = (i + 1) & x->mask;
      x->stamp[i] = x->generation;
      x->slot[i] = (uint32_t)k;
      x->size++;
    }
  }
  size_t i = hash_peer(role, ip, port) & x->mask;
  for (; x->stamp[i] == x->generation; i = (i + 1) & x->mask) {
    struct peer *p = &c->peers[x->slot[i]];
    if (p->role == role && p->ip == ip && p->port == port) return p;
  }
  if (c->npeers == c->peer_cap) {
    size_t cap = c->peer_cap ? c->peer_cap * 2 : 64;
    struct peer *peers = realloc(c->peers, cap * sizeof *peers);
    if (!peers) return NULL;
    c->peers = peers;
    c->peer_cap = cap;
  }
  struct peer *p = &c->peers[c->npeers];
  memset(p, 0, sizeof *p);
  p->role = role;
  p->ip = ip;
  p->port = port;
  x->stamp[i] = x->generation;
  x->slot[i] = (uint32_t)c->npeers++;
  x->size++;
  return p;
}

// Dedups the rows in place (the later row of a 4-tuple overwrites the earlier one's place, as the JS census
// does), marks ports seen listening, then counts.
static void count(struct census *c) {
  size_t kept = 0;
  if ((c->err = index_reset(&c->tuples, c->n)) != 0) return;
  for (size_t k = 0; k < c->n; k++) {
    struct row r = c->rows[k];
    if (r.state == TCP_LISTEN) c->server_port[local_port(&r)] = 1;
    long seen = r.state == TCP_LISTEN ? -1 : row_of(c, &r, (uint32_t)kept);
    if (seen >= 0) {
      c->rows[seen] = r;
      c->repeats++;
      continue;
    }
    c->rows[kept++] = r;
  }
  c->n = kept;
  if ((c->err = index_reset(&c->peer_index, 64)) != 0) return;
  for (size_t k = 0; k < c->n; k++) {
    const struct row *r = &c->rows[k];
    if (r->state >= STATE_COUNT) continue;
    if (r->state == TCP_LISTEN) {
      c->listen[TCP_LISTEN]++;
      continue;
    }
    bool listening = c->server_port[local_port(r)] == 1;
    (listening ? c->listen : c->ephemeral)[r->state]++;
    uint32_t ip;
    if (!remote_v4(r, &ip)) continue;
    // Listening side: by client address only (its ports are many); ephemeral side: by ip:port.
    struct peer *p = peer_for(c, listening, ip, listening ? 0 : remote_port(r));
    if (!p) {
      c->err = ENOMEM;
      return;
    }
    p->counts[r->state]++;
  }
}

static uint64_t thread_cpu_ns(void) {
  struct timespec t;
  return clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0 ? (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec : 0;
}

static void execute(napi_env env, void *data) {
  (void)env;
  struct census *c = data;
  // CPU time, not the time from the call: a census queued behind other hosts' work on the pool (an agent of 100
  // hosts) would otherwise look 100 times as costly as it is to the sampler's CPU budget.
  uint64_t cpu_start = thread_cpu_ns();
  c->n = 0;
  c->repeats = 0;
  c->npeers = 0;
  c->err = 0;
  memset(c->listen, 0, sizeof c->listen);
  memset(c->ephemeral, 0, sizeof c->ephemeral);
  // One dump of both families where the kernel takes the old request; else family by family, IPv4 first. A
  // 4-tuple never repeats across families (a socket is listed under its own).
  if (!c->both_refused) {
    int err = diag_dump_both(c->fd, ALL_TCP_STATES, add_record, c);
    if (err && !c->err) c->err = err;
    // Refused before any record: this kernel does not take the old request.
    if (c->n == 0 && (c->err == EINVAL || c->err == ENOENT || c->err == EOPNOTSUPP)) {
      c->both_refused = true;
      c->err = 0;
    }
  }
  if (c->both_refused) {
    int families[2] = {AF_INET, AF_INET6};
    for (int f = 0; f < 2 && !c->err; f++) {
      int err = diag_dump(c->fd, families[f], ALL_TCP_STATES, add_record, c);
      if (err && !c->err) c->err = err;
    }
  }
  if (!c->err) count(c);
  c->cpu_us = (uint32_t)((thread_cpu_ns() - cpu_start) / 1000u);
}

static void complete(napi_env env, napi_status status, void *data) {
  struct census *c = data;
  c->busy = false;
  if (status != napi_ok && !c->err) c->err = ECANCELED;
  if (c->err) {
    napi_reject_deferred(env, c->deferred, throw_errno(env, c->err, "sock_diag census"));
  } else {
    size_t words = HEADER + c->npeers * PEER_WORDS;
    void *data_out;
    napi_value buffer;
    napi_create_arraybuffer(env, words * 4, &data_out, &buffer);
    uint32_t *out = data_out;
    out[0] = (uint32_t)c->n;
    out[1] = c->repeats;
    out[2] = (uint32_t)c->npeers;
    memcpy(out + 3, c->listen, sizeof c->listen);
    memcpy(out + 3 + STATE_COUNT, c->ephemeral, sizeof c->ephemeral);
    out[CPU_WORD] = c->cpu_us;
    memcpy(out + HEADER, c->peers, c->npeers * sizeof *c->peers);
    napi_resolve_deferred(env, c->deferred, buffer);
  }
  napi_delete_async_work(env, c->work);
  napi_delete_reference(env, c->self);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct census *c = data;
  free(c->rows);
  free(c->peers);
  free(c->tuples.slot);
  free(c->tuples.stamp);
  free(c->peer_index.slot);
  free(c->peer_index.stamp);
  free(c);
}

napi_value census_create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  bool typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *ports = NULL;
  if (argc == 2) napi_is_typedarray(env, argv[1], &typed);
  if (typed) napi_get_typedarray_info(env, argv[1], &type, &length, &ports, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || !typed || type != napi_uint16_array) {
    napi_throw_type_error(env, NULL, "censusCreate(fd, serverPorts): fd from open(), serverPorts a Uint16Array");
    return NULL;
  }
  struct census *c = calloc(1, sizeof *c);
  if (!c) {
    napi_throw(env, throw_errno(env, ENOMEM, "sock_diag census"));
    return NULL;
  }
  c->fd = fd;
  for (size_t i = 0; i < length; i++) {
    uint16_t port = ((const uint16_t *)ports)[i];
    if (port > 0) c->server_port[port] = 1;
  }
  napi_value handle;
  napi_create_external(env, c, finalize, NULL, &handle);
  return handle;
}

napi_value census_take(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype kind = napi_undefined;
  if (argc == 1) napi_typeof(env, argv[0], &kind);
  struct census *c = NULL;
  if (kind != napi_external || napi_get_value_external(env, argv[0], (void **)&c) != napi_ok || !c) {
    napi_throw_type_error(env, NULL, "censusTake(handle): a handle from censusCreate()");
    return NULL;
  }
  if (c->busy) {
    napi_throw_error(env, "EBUSY", "censusTake: the previous census of this handle has not ended");
    return NULL;
  }
  c->busy = true;
  // The handle stays alive while its census runs on the thread pool.
  return queue_on_pool(env, "waitlab:census", argv[0], &c->self, execute, complete, c, &c->deferred, &c->work);
}
