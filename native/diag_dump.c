// The dump loop shared by the record copier (sock_diag.c) and the census that counts in place (census.c).
#define _GNU_SOURCE
#include "diag_dump.h"
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

// A dump skb is at most about 32 KiB (netlink_dump grows it up to max_recvmsg_len); one receive takes it whole.
#define RECV_SIZE (64 * 1024)

static uint32_t next_seq = 1;

// A dump is always read to NLMSG_DONE: a half-read one would leave its rest queued on the socket for the next request.
static int read_dump(int fd, uint32_t seq, uint16_t type, diag_record_fn on_record, void *ctx) {
  static __thread unsigned char buf[RECV_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EPIPE;
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) {
        // A dump that failed partway ends with DONE whose payload is the negative errno (netlink_dump_done).
        int status = 0;
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof status)) memcpy(&status, NLMSG_DATA(h), sizeof status);
        return status < 0 ? -status : 0;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        // ENOENT here: no diag handler for this family (tcp_diag not loaded and not loadable in a container).
        return e->error ? -e->error : EPROTO;
      }
      if (h->nlmsg_type != type || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      on_record(NLMSG_DATA(h), ctx);
    }
  }
}

// Fills in the header of a dump request of `len` bytes (header included) and sends it; 0, or the errno.
static int send_dump_request(int fd, struct nlmsghdr *nlh, size_t len, uint16_t type, uint32_t *seq) {
  *seq = __atomic_fetch_add(&next_seq, 1, __ATOMIC_RELAXED);
  nlh->nlmsg_len = (uint32_t)len;
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = *seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  return sendto(fd, nlh, len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0 ? errno : 0;
}

int diag_dump(int fd, int family, uint32_t states, diag_record_fn on_record, void *ctx) {
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } request;
  memset(&request, 0, sizeof request);
  request.req.sdiag_family = (uint8_t)family;
  request.req.sdiag_protocol = IPPROTO_TCP;
  request.req.idiag_states = states;
  uint32_t seq;
  int err = send_dump_request(fd, &request.nlh, sizeof request, SOCK_DIAG_BY_FAMILY, &seq);
  return err ? err : read_dump(fd, seq, SOCK_DIAG_BY_FAMILY, on_record, ctx);
}

// The request older than sock_diag (TCPDIAG_GETSOCK with struct inet_diag_req): the kernel answers it as a dump of
// family AF_UNSPEC (inet_diag_dump_compat), which SOCK_DIAG_BY_FAMILY cannot ask for, so one walk of the hash
// table lists both families. A dump walks every bucket and every socket in it whatever the family asked, so two
// dumps cost two walks: 4.7 ms against 2.4 ms for an empty namespace beside the machine's 262,144 buckets here.
int diag_dump_both(int fd, uint32_t states, diag_record_fn on_record, void *ctx) {
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req req;
  } request;
  memset(&request, 0, sizeof request);
  request.req.idiag_family = AF_INET;
  request.req.idiag_states = states;
  uint32_t seq;
  int err = send_dump_request(fd, &request.nlh, sizeof request, TCPDIAG_GETSOCK, &seq);
  return err ? err : read_dump(fd, seq, TCPDIAG_GETSOCK, on_record, ctx);
}

napi_value queue_on_pool(napi_env env, const char *label, napi_value keep, napi_ref *kept, napi_async_execute_callback execute,
                         napi_async_complete_callback complete, void *data, napi_deferred *deferred, napi_async_work *work) {
  napi_value promise, name;
  napi_create_promise(env, deferred, &promise);
  napi_create_reference(env, keep, 1, kept);
  napi_create_string_utf8(env, label, NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, data, work);
  napi_queue_async_work(env, *work);
  return promise;
}
