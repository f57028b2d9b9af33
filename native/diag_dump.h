// One NETLINK_SOCK_DIAG dump of a namespace's TCP sockets of one family, each record handed to a callback.
#ifndef WAITLAB_DIAG_DUMP_H
#define WAITLAB_DIAG_DUMP_H
#include <linux/inet_diag.h>
#include <node_api.h>
#include <stdint.h>

typedef void (*diag_record_fn)(const struct inet_diag_msg *msg, void *ctx);

// Sends one SOCK_DIAG_BY_FAMILY dump request for TCP sockets of `family` in `states` (TCPF_* bits) on `fd` and
// calls on_record for every record; 0, or the errno that ended it.
int diag_dump(int fd, int family, uint32_t states, diag_record_fn on_record, void *ctx);

// The same for TCP sockets of both families in one dump (one walk of the kernel's table); 0, or the errno that
// ended it (a kernel without the old TCPDIAG_GETSOCK request refuses it: the caller dumps family by family).
int diag_dump_both(int fd, uint32_t states, diag_record_fn on_record, void *ctx);

// An Error whose code is the errno's name (EPERM, ENOENT, ...) and whose message says what failed.
napi_value throw_errno(napi_env env, int err, const char *what);

// Runs execute on libuv's thread pool and complete back on the main thread, holding a reference to `keep` (the
// buffer or handle the work writes to) meanwhile; returns the promise that complete settles through *deferred.
napi_value queue_on_pool(napi_env env, const char *label, napi_value keep, napi_ref *kept, napi_async_execute_callback execute,
                         napi_async_complete_callback complete, void *data, napi_deferred *deferred, napi_async_work *work);

#endif
