// A socket belongs to the network namespace of the thread that created it, for its whole life: a sock_diag
// socket made while the calling thread was in a lab host lists that host's sockets from any thread afterwards. The
// thread enters the host for the socket() call only (netns_enter.c in_netns).
#define _GNU_SOURCE
#include "netns_socket.h"
#include "diag_dump.h"
#include "netns_enter.h"
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <string.h>
#include <sys/socket.h>

struct open_in {
  int fd;
  int err;
};

static void open_socket(void *arg) {
  struct open_in *o = arg;
  o->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (o->fd < 0) o->err = errno;
}

napi_value open_socket_in(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct open_in o = {.fd = -1};
  char path[256];
  size_t length = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length) != napi_ok || length == 0 ||
      length >= sizeof path - 1 || path[0] != '/') {
    napi_throw_type_error(env, NULL, "openIn(path): the absolute path of a network namespace file");
    return NULL;
  }
  const char *what = "socket(AF_NETLINK, NETLINK_SOCK_DIAG)";
  int err = in_netns(path, open_socket, &o, &what);
  if (err || o.err) {
    napi_throw(env, throw_errno(env, err ? err : o.err, what));
    return NULL;
  }
  napi_value out;
  napi_create_int32(env, o.fd, &out);
  return out;
}
