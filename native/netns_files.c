// Files of another network namespace, opened from one process that serves many lab hosts: /proc/thread-self/net/*
// (snmp, netstat, sockstat) and /proc/sys/net/* (the per-namespace sysctls). Both bind to the namespace of the
// thread that opens them: a proc net file keeps that namespace for the open file's life (seq_open_net takes a
// reference), and a /proc/sys/net entry is looked up in the opener's namespace's sysctl tables. So the fd,
// opened on a thread made for it that entered the host and ended right after, reads (and, for a sysctl, writes)
// that host's values from any thread later, with pread at offset 0 regenerating the text each time. The opens run on
// the calling thread, moved into the host for them and back (netns_enter.c in_netns).
#define _GNU_SOURCE
#include "netns_enter.h"
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_CAP 256

struct open_request {
  char ns_path[PATH_CAP];
  char file_path[PATH_CAP];
  int flags;
  int fd;
  int err;
  const char *what;
  bool entered;
};

static void open_in_namespace(void *arg) {
  struct open_request *r = arg;
  r->entered = true;
  r->fd = open(r->file_path, r->flags | O_CLOEXEC);
  if (r->fd < 0) {
    r->err = errno;
    r->what = "open";
  }
}

static napi_value throw_code(napi_env env, int err, const char *what, const char *path) {
  char message[PATH_CAP + 96];
  snprintf(message, sizeof message, "%s %s: %s", what, path, strerror(err));
  napi_value code, msg, error;
  napi_create_string_utf8(env, strerrorname_np(err) ? strerrorname_np(err) : "EIO", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_value errno_value;
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  // Which step failed: entering the namespace (its file missing: no such host) or opening the file in it.
  napi_value syscall;
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &syscall);
  napi_set_named_property(env, error, "syscall", syscall);
  napi_throw(env, error);
  return NULL;
}

// Only the files a lab host's agent reads or writes: its namespace's proc net tables and its net sysctls.
static bool file_allowed(const char *path) {
  return strncmp(path, "/proc/thread-self/net/", 22) == 0 || strncmp(path, "/proc/sys/net/", 14) == 0;
}

// openIn(namespacePath, filePath, writable): the fd of filePath opened inside the namespace, O_RDONLY or O_WRONLY.
static napi_value open_in(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct open_request r = {.fd = -1};
  size_t ns_len = 0, file_len = 0;
  bool writable = false;
  if (argc < 3 || !whole_string(env, argv[0], r.ns_path, PATH_CAP, &ns_len) ||
      !whole_string(env, argv[1], r.file_path, PATH_CAP, &file_len) ||
      napi_get_value_bool(env, argv[2], &writable) != napi_ok || !netns_path_ok(r.ns_path, ns_len, PATH_CAP) ||
      !netns_path_ok(r.file_path, file_len, PATH_CAP) || !file_allowed(r.file_path)) {
    napi_throw_type_error(env, NULL,
                          "openIn(namespacePath, filePath, writable): absolute paths, the file under /proc/thread-self/net/ or /proc/sys/net/");
    return NULL;
  }
  r.flags = writable ? O_WRONLY : O_RDONLY;
  int err = in_netns(r.ns_path, open_in_namespace, &r, &r.what);
  if (err) r.err = err;
  if (r.err) return throw_code(env, r.err, r.what, r.entered ? r.file_path : r.ns_path);
  napi_value out;
  napi_create_int32(env, r.fd, &out);
  return out;
}

#define MANY_MAX 64

struct open_many {
  char ns_path[PATH_CAP];
  char paths[MANY_MAX][PATH_CAP];
  uint32_t count;
  int flags;
  int fds[MANY_MAX]; // an fd, or -errno
  int err;
  const char *what;
};

// One entry into the namespace for all of a host's files: entering costs more than the opens after it.
static void open_many_in_namespace(void *arg) {
  struct open_many *r = arg;
  for (uint32_t i = 0; i < r->count; i++) {
    r->fds[i] = open(r->paths[i], r->flags | O_CLOEXEC);
    if (r->fds[i] < 0) r->fds[i] = -errno;
  }
}

// openAllIn(namespacePath, filePaths, writable): for each path, its fd or the negative errno of its open; throws
// only where the namespace cannot be entered.
static napi_value open_all_in(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct open_many *r = calloc(1, sizeof *r);
  if (!r) return throw_code(env, ENOMEM, "calloc", "openAllIn");
  size_t ns_len = 0;
  bool writable = false, is_array = false;
  if (argc == 3) napi_is_array(env, argv[1], &is_array);
  if (argc < 3 || !is_array || !whole_string(env, argv[0], r->ns_path, PATH_CAP, &ns_len) ||
      napi_get_value_bool(env, argv[2], &writable) != napi_ok || !netns_path_ok(r->ns_path, ns_len, PATH_CAP) ||
      napi_get_array_length(env, argv[1], &r->count) != napi_ok || r->count > MANY_MAX)
    goto bad;
  for (uint32_t i = 0; i < r->count; i++) {
    napi_value v;
    size_t len = 0;
    if (napi_get_element(env, argv[1], i, &v) != napi_ok || !whole_string(env, v, r->paths[i], PATH_CAP, &len) ||
        !netns_path_ok(r->paths[i], len, PATH_CAP) || !file_allowed(r->paths[i]))
      goto bad;
  }
  r->flags = writable ? O_WRONLY : O_RDONLY;
  r->err = in_netns(r->ns_path, open_many_in_namespace, r, &r->what);
  if (r->err) {
    napi_value thrown = throw_code(env, r->err, r->what, r->ns_path);
    free(r);
    return thrown;
  }
  napi_value out;
  napi_create_array_with_length(env, r->count, &out);
  for (uint32_t i = 0; i < r->count; i++) {
    napi_value fd;
    napi_create_int32(env, r->fds[i], &fd);
    napi_set_element(env, out, i, fd);
  }
  free(r);
  return out;
bad:
  free(r);
  napi_throw_type_error(env, NULL,
                        "openAllIn(namespacePath, filePaths, writable): absolute paths, at most 64 files under /proc/thread-self/net/ or /proc/sys/net/");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"openIn", NULL, open_in, NULL, NULL, NULL, napi_default, NULL},
      {"openAllIn", NULL, open_all_in, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
