// Only ever called on a thread made for the namespace: setns on the event loop or libuv's pool would move every
// later task of that thread (a DNS lookup, a file read for another host) into the lab host.
#define _GNU_SOURCE
#include "netns_enter.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

int enter_netns(const char *path, const char **what) {
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    *what = "open(namespace)";
    return errno;
  }
  // CLONE_NEWNET refuses (EINVAL) a file that is not a network namespace.
  int rc = setns(ns, CLONE_NEWNET);
  int err = errno;
  close(ns);
  if (rc < 0) {
    *what = "setns(CLONE_NEWNET)";
    return err;
  }
  return 0;
}

int netns_path_ok(const char *path, size_t length, size_t capacity) {
  return length > 1 && length < capacity - 1 && path[0] == '/' && strstr(path, "/..") == NULL;
}

int whole_string(napi_env env, napi_value value, char *buf, size_t capacity, size_t *length) {
  size_t whole = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &whole) != napi_ok || whole >= capacity) return 0;
  return napi_get_value_string_utf8(env, value, buf, capacity, length) == napi_ok && *length == whole;
}
