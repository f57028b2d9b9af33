// A socket belongs to the network namespace of the thread that created it, for its whole life: a sock_diag
// socket made by a thread that setns()'d into a lab host lists that host's sockets from any thread afterwards.
// The setns happens on a thread made for it and ended right after, so no thread of Node (the event loop, the
// thread pool) ever changes namespace.
#define _GNU_SOURCE
#include "netns_socket.h"
#include "diag_dump.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct open_in {
  char path[256];
  int fd;
  int err;
  const char *what;
};

static void *open_in_namespace(void *arg) {
  struct open_in *o = arg;
  int ns = open(o->path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    o->err = errno;
    o->what = "open(namespace)";
    return NULL;
  }
  // CLONE_NEWNET: refuses (EINVAL) a file that is not a network namespace.
  if (setns(ns, CLONE_NEWNET) < 0) {
    o->err = errno;
    o->what = "setns(CLONE_NEWNET)";
    close(ns);
    return NULL;
  }
  close(ns);
  o->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (o->fd < 0) {
    o->err = errno;
    o->what = "socket(AF_NETLINK, NETLINK_SOCK_DIAG)";
  }
  return NULL;
}

napi_value open_socket_in(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct open_in o = {.fd = -1};
  size_t length = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], o.path, sizeof o.path, &length) != napi_ok || length == 0 || length >= sizeof o.path - 1 ||
      o.path[0] != '/') {
    napi_throw_type_error(env, NULL, "openIn(path): the absolute path of a network namespace file");
    return NULL;
  }
  pthread_t thread;
  int err = pthread_create(&thread, NULL, open_in_namespace, &o);
  if (err) {
    napi_throw(env, throw_errno(env, err, "pthread_create"));
    return NULL;
  }
  pthread_join(thread, NULL);
  if (o.err) {
    napi_throw(env, throw_errno(env, o.err, o.what));
    return NULL;
  }
  napi_value out;
  napi_create_int32(env, o.fd, &out);
  return out;
}
