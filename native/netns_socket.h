// A NETLINK_SOCK_DIAG socket of another network namespace, for one process that reads many lab hosts.
#ifndef WAITLAB_NETNS_SOCKET_H
#define WAITLAB_NETNS_SOCKET_H
#include <node_api.h>

// openIn(path): the fd of a sock_diag socket opened inside the network namespace bound at `path`
// (/run/netns/<name>); throws with the errno's name as code.
napi_value open_socket_in(napi_env env, napi_callback_info info);

#endif
