// The census's netlink source: one NETLINK_SOCK_DIAG dump of a namespace's TCP sockets (what `ss` does),
// filtered by state in the kernel, copied into a caller's buffer as fixed-size struct inet_diag_msg records.
// Node has no AF_NETLINK sockets, hence this addon. The dump runs on libuv's thread pool: at 100k sockets it
// takes tens of milliseconds, and the agent's event loop also runs the flood.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "diag_dump.h"
#include "census.h"
#include "netns_socket.h"

#define RECORD_SIZE sizeof(struct inet_diag_msg)

struct dump {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref buffer_ref;
  int fd;
  int family;
  uint32_t states;
  unsigned char *out;
  size_t capacity;
  size_t rows;
  int err;
};

napi_value throw_errno(napi_env env, int err, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  const char *name = strerrorname_np(err);
  napi_value code, msg, error;
  napi_create_string_utf8(env, name ? name : "EIO", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  return error;
}

// Copies each record into d->out while it has room and counts every row of the dump, so the caller can grow
// its buffer and ask again when rows > capacity.
static void copy_record(const struct inet_diag_msg *msg, void *ctx) {
  struct dump *d = ctx;
  if (d->rows < d->capacity) memcpy(d->out + d->rows * RECORD_SIZE, msg, RECORD_SIZE);
  d->rows++;
}

static void run_dump(struct dump *d) {
  d->err = diag_dump(d->fd, d->family, d->states, copy_record, d);
}

static void execute(napi_env env, void *data) {
  (void)env;
  run_dump(data);
}

static void complete(napi_env env, napi_status status, void *data) {
  struct dump *d = data;
  if (status != napi_ok) d->err = ECANCELED;
  if (d->err) {
    napi_reject_deferred(env, d->deferred, throw_errno(env, d->err, "sock_diag dump"));
  } else {
    napi_value rows;
    napi_create_double(env, (double)d->rows, &rows);
    napi_resolve_deferred(env, d->deferred, rows);
  }
  napi_delete_reference(env, d->buffer_ref);
  napi_delete_async_work(env, d->work);
  free(d);
}

// open(): a NETLINK_SOCK_DIAG socket in the calling process's network namespace; its fd, or throws with the errno's name as code.
static napi_value open_socket(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) {
    napi_throw(env, throw_errno(env, errno, "socket(AF_NETLINK, NETLINK_SOCK_DIAG)"));
    return NULL;
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "close(fd): fd must be a descriptor from open()");
    return NULL;
  }
  close(fd);
  return NULL;
}

// dump(fd, family, states, buffer): a promise of the number of sockets the kernel listed; the first
// min(rows, buffer.length / 72) of them are in buffer as struct inet_diag_msg.
static napi_value dump(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, family;
  uint32_t states;
  void *data;
  size_t length;
  bool is_buffer = false;
  if (argc == 4) napi_is_buffer(env, argv[3], &is_buffer);
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &family) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &states) != napi_ok || !is_buffer || fd < 0 || (family != AF_INET && family != AF_INET6)) {
    napi_throw_type_error(env, NULL, "dump(fd, family, states, buffer): fd from open(), family AF_INET or AF_INET6, states a bitmask, a Buffer");
    return NULL;
  }
  napi_get_buffer_info(env, argv[3], &data, &length);
  struct dump *d = calloc(1, sizeof *d);
  if (!d) {
    napi_throw(env, throw_errno(env, ENOMEM, "sock_diag dump"));
    return NULL;
  }
  d->fd = fd;
  d->family = family;
  d->states = states;
  d->out = data;
  d->capacity = length / RECORD_SIZE;
  return queue_on_pool(env, "waitlab:sock_diag", argv[3], &d->buffer_ref, execute, complete, d, &d->deferred, &d->work);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL},
      {"openIn", NULL, open_socket_in, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_socket, NULL, NULL, NULL, napi_default, NULL},
      {"dump", NULL, dump, NULL, NULL, NULL, napi_default, NULL},
      {"censusCreate", NULL, census_create, NULL, NULL, NULL, napi_default, NULL},
      {"censusTake", NULL, census_take, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value record;
  napi_create_uint32(env, RECORD_SIZE, &record);
  napi_set_named_property(env, exports, "recordSize", record);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
