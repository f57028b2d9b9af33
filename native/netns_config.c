// Configures many lab hosts from one process: for each host, a thread made for the purpose setns()es into the
// host's network namespace, sends that host's rtnetlink requests (link up, addresses, routes) on a NETLINK_ROUTE
// socket it opens there, and writes the host's sysctls through /proc/sys files it opens there (/proc/sys/net
// resolves to the network namespace of the thread that opens it). No thread of Node (the event loop, libuv's pool)
// ever changes namespace: the pool thread that runs the work only starts that thread and waits for it.
//
// configure(jobs): jobs is an array of { namespace, requests, devices, files, values }:
//   namespace  the absolute path of the namespace's file (/run/netns/<name>);
//   requests   a Buffer of complete netlink messages, one after the other (each its nlmsg_len long);
//   devices    one string per message: for an RTM_NEWADDR the interface whose index it takes (resolved inside the
//              namespace, as `ip addr add ... dev X` does), '' for any other message;
//   files      paths under /proc/sys/net/, with values the strings written to them (a newline appended).
// Resolves with an array of failures, at most one per job (a job stops at its first failure; the others go on):
//   { job, stage: 'namespace' | 'socket' | 'device' | 'request' | 'file', index, code, text, message }
// where index is the message or file that failed, code the errno's name, text strerror, message the kernel's
// extended ack (NLMSGERR_ATTR_MSG), '' when it gave none.
#define _GNU_SOURCE
#include "netns_enter.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PATH_LIMIT 256
#define VALUE_LIMIT 256
#define MESSAGE_LIMIT 256
#define SYSCTL_ROOT "/proc/sys/net/"

struct file_write {
  char path[PATH_LIMIT];
  char value[VALUE_LIMIT + 1];
  size_t length;
};

struct job {
  char namespace_path[PATH_LIMIT];
  unsigned char *requests;
  size_t requests_length;
  char (*devices)[IF_NAMESIZE];
  uint32_t messages;
  struct file_write *files;
  uint32_t file_count;
  // The first failure, if any.
  int err;
  const char *stage;
  uint32_t index;
  char message[MESSAGE_LIMIT];
};

struct batch {
  napi_async_work work;
  napi_deferred deferred;
  struct job *jobs;
  uint32_t job_count;
  int thread_err;
};

static void fail(struct job *j, int err, const char *stage, uint32_t index) {
  j->err = err;
  j->stage = stage;
  j->index = index;
}

// The kernel's own words for a failed request (extended ack), as `ip` prints them after "Error: ".
static void extack_message(const struct nlmsghdr *h, char *out) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;
  const struct nlmsgerr *e = NLMSG_DATA(h);
  // Without NETLINK_CAP_ACK the kernel echoes the whole request after nlmsgerr; capped, only its header.
  size_t echoed = (h->nlmsg_flags & NLM_F_CAPPED) ? sizeof(struct nlmsghdr) : e->msg.nlmsg_len;
  size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nlmsgerr) - sizeof(struct nlmsghdr) + echoed);
  while (offset + NLA_HDRLEN <= h->nlmsg_len) {
    const struct nlattr *a = (const struct nlattr *)((const unsigned char *)h + offset);
    if (a->nla_len < NLA_HDRLEN || offset + a->nla_len > h->nlmsg_len) return;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      size_t n = a->nla_len - NLA_HDRLEN;
      if (n >= MESSAGE_LIMIT) n = MESSAGE_LIMIT - 1;
      memcpy(out, (const unsigned char *)a + NLA_HDRLEN, n);
      out[n] = '\0';
      return;
    }
    offset += NLA_ALIGN(a->nla_len);
  }
}

// Reads until the ack of `seq`: 0, or the errno the kernel answered with.
static int await_ack(int fd, uint32_t seq, char *message) {
  unsigned char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    // NLMSG_NEXT lowers the remainder by an aligned length: it must stay signed, or its end wraps to a huge size.
    int left = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR) continue;
      const struct nlmsgerr *e = NLMSG_DATA(h);
      if (e->error == 0) return 0;
      extack_message(h, message);
      return -e->error;
    }
  }
}

static void send_requests(struct job *j, int fd) {
  size_t offset = 0;
  for (uint32_t i = 0; i < j->messages; i++) {
    struct nlmsghdr *h = (struct nlmsghdr *)(j->requests + offset);
    offset += NLMSG_ALIGN(h->nlmsg_len);
    if (j->devices[i][0]) {
      unsigned index = if_nametoindex(j->devices[i]);
      if (index == 0) return fail(j, errno, "device", i);
      ((struct ifaddrmsg *)NLMSG_DATA(h))->ifa_index = index;
    }
    h->nlmsg_seq = i + 1;
    h->nlmsg_pid = 0;
    // The ack is what await_ack waits for: asked for here, whatever the caller's flags said.
    h->nlmsg_flags |= NLM_F_ACK;
    if (send(fd, h, h->nlmsg_len, 0) < 0) return fail(j, errno, "request", i);
    int err = await_ack(fd, i + 1, j->message);
    if (err) return fail(j, err, "request", i);
  }
}

static void write_files(struct job *j) {
  for (uint32_t i = 0; i < j->file_count; i++) {
    struct file_write *f = &j->files[i];
    int fd = open(f->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(j, errno, "file", i);
    ssize_t n = write(fd, f->value, f->length);
    int err = n < 0 ? errno : (size_t)n != f->length ? EIO : 0;
    close(fd);
    if (err) return fail(j, err, "file", i);
  }
}

static void configure_one(struct job *j) {
  const char *what = NULL;
  int err = enter_netns(j->namespace_path, &what);
  if (err) return fail(j, err, "namespace", 0);
  if (j->messages) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return fail(j, errno, "socket", 0);
    int on = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
    // An ack that never comes must not hold the build (and a pool thread) for ever: recv gives EAGAIN after 10 s.
    struct timeval timeout = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    send_requests(j, fd);
    close(fd);
    if (j->err) return;
  }
  write_files(j);
}

static void *configure_all(void *arg) {
  struct batch *b = arg;
  for (uint32_t i = 0; i < b->job_count; i++) configure_one(&b->jobs[i]);
  return NULL;
}

static void execute(napi_env env, void *data) {
  (void)env;
  struct batch *b = data;
  // The thread that changes namespace is this one's, made here and ended before the pool thread goes on.
  pthread_t thread;
  b->thread_err = pthread_create(&thread, NULL, configure_all, b);
  if (!b->thread_err) pthread_join(thread, NULL);
}

static void free_batch(struct batch *b) {
  for (uint32_t i = 0; i < b->job_count; i++) {
    free(b->jobs[i].requests);
    free(b->jobs[i].devices);
    free(b->jobs[i].files);
  }
  free(b->jobs);
  free(b);
}

static napi_value string_value(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value failure_object(napi_env env, uint32_t job, const char *stage, uint32_t index, int err, const char *message) {
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_uint32(env, job, &v);
  napi_set_named_property(env, o, "job", v);
  napi_set_named_property(env, o, "stage", string_value(env, stage));
  napi_create_uint32(env, index, &v);
  napi_set_named_property(env, o, "index", v);
  const char *name = strerrorname_np(err);
  napi_set_named_property(env, o, "code", string_value(env, name ? name : "EIO"));
  napi_set_named_property(env, o, "text", string_value(env, strerror(err)));
  napi_set_named_property(env, o, "message", string_value(env, message));
  return o;
}

static void complete(napi_env env, napi_status status, void *data) {
  struct batch *b = data;
  napi_value failures;
  napi_create_array(env, &failures);
  uint32_t n = 0;
  if (status != napi_ok || b->thread_err) {
    int err = status != napi_ok ? ECANCELED : b->thread_err;
    napi_set_element(env, failures, n++, failure_object(env, 0, "thread", 0, err, ""));
  } else {
    for (uint32_t i = 0; i < b->job_count; i++) {
      struct job *j = &b->jobs[i];
      if (j->err) napi_set_element(env, failures, n++, failure_object(env, i, j->stage, j->index, j->err, j->message));
    }
  }
  napi_resolve_deferred(env, b->deferred, failures);
  napi_delete_async_work(env, b->work);
  free_batch(b);
}

// Copies a JS string into `out` with its NUL (at most limit - 1 bytes); false if it is not a string or does not fit.
static bool copy_string(napi_env env, napi_value v, char *out, size_t limit, size_t *length) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok || n >= limit) return false;
  if (napi_get_value_string_utf8(env, v, out, limit, &n) != napi_ok) return false;
  if (length) *length = n;
  return true;
}

static bool element(napi_env env, napi_value array, uint32_t i, napi_value *out) {
  return napi_get_element(env, array, i, out) == napi_ok;
}

static bool array_property(napi_env env, napi_value o, const char *name, napi_value *out, uint32_t *length) {
  bool is_array = false;
  return napi_get_named_property(env, o, name, out) == napi_ok && napi_is_array(env, *out, &is_array) == napi_ok && is_array &&
         napi_get_array_length(env, *out, length) == napi_ok;
}

// A buffer of whole netlink messages: returns how many, or -1 if one runs past the end or is shorter than a header.
static int64_t count_messages(const unsigned char *data, size_t length) {
  int64_t count = 0;
  size_t offset = 0;
  while (offset < length) {
    if (length - offset < NLMSG_HDRLEN) return -1;
    const struct nlmsghdr *h = (const struct nlmsghdr *)(data + offset);
    if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > length - offset) return -1;
    // A lab host is only ever added to: a link set up, an address, a route. Nothing else goes out as root.
    if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_NEWADDR && h->nlmsg_type != RTM_NEWROUTE) return -2;
    if (!(h->nlmsg_flags & NLM_F_REQUEST)) return -2;
    offset += NLMSG_ALIGN(h->nlmsg_len);
    count++;
  }
  return count;
}

static bool sysctl_path(const char *path) {
  return strncmp(path, SYSCTL_ROOT, strlen(SYSCTL_ROOT)) == 0 && strstr(path, "/..") == NULL;
}

static const char *read_job(napi_env env, napi_value o, struct job *j) {
  napi_value v, list, values;
  size_t length = 0;
  if (napi_get_named_property(env, o, "namespace", &v) != napi_ok || !copy_string(env, v, j->namespace_path, PATH_LIMIT, &length) ||
      j->namespace_path[0] != '/')
    return "namespace: the absolute path of a network namespace file";
  bool is_buffer = false;
  void *data = NULL;
  if (napi_get_named_property(env, o, "requests", &v) != napi_ok || napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, v, &data, &length) != napi_ok)
    return "requests: a Buffer of netlink messages";
  int64_t messages = count_messages(data, length);
  if (messages == -2) return "requests: only RTM_NEWLINK, RTM_NEWADDR and RTM_NEWROUTE requests";
  if (messages < 0) return "requests: a message runs past the buffer's end";
  uint32_t device_count = 0;
  if (!array_property(env, o, "devices", &list, &device_count) || device_count != messages)
    return "devices: one string per message";
  j->messages = (uint32_t)messages;
  j->requests_length = length;
  j->requests = malloc(length ? length : 1);
  j->devices = calloc(device_count ? device_count : 1, IF_NAMESIZE);
  if (!j->requests || !j->devices) return "out of memory";
  memcpy(j->requests, data, length);
  size_t offset = 0;
  for (uint32_t i = 0; i < device_count; i++) {
    const struct nlmsghdr *h = (const struct nlmsghdr *)(j->requests + offset);
    offset += NLMSG_ALIGN(h->nlmsg_len);
    if (!element(env, list, i, &v) || !copy_string(env, v, j->devices[i], IF_NAMESIZE, NULL))
      return "devices: interface names shorter than IFNAMSIZ";
    if (j->devices[i][0] && (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg))))
      return "devices: a device is given only for an RTM_NEWADDR message";
  }
  uint32_t value_count = 0;
  if (!array_property(env, o, "files", &list, &j->file_count) || !array_property(env, o, "values", &values, &value_count) ||
      value_count != j->file_count)
    return "files and values: arrays of the same length";
  j->files = calloc(j->file_count ? j->file_count : 1, sizeof *j->files);
  if (!j->files) return "out of memory";
  for (uint32_t i = 0; i < j->file_count; i++) {
    struct file_write *f = &j->files[i];
    if (!element(env, list, i, &v) || !copy_string(env, v, f->path, PATH_LIMIT, NULL) || !sysctl_path(f->path))
      return "files: paths under " SYSCTL_ROOT;
    if (!element(env, values, i, &v) || !copy_string(env, v, f->value, VALUE_LIMIT, &f->length) || memchr(f->value, '\n', f->length))
      return "values: one line each";
    f->value[f->length++] = '\n';
  }
  return NULL;
}

static napi_value configure(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_array = false;
  uint32_t count = 0;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[0], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "configure(jobs): an array of { namespace, requests, devices, files, values }");
    return NULL;
  }
  struct batch *b = calloc(1, sizeof *b);
  if (b) b->jobs = calloc(count ? count : 1, sizeof *b->jobs);
  if (!b || !b->jobs) {
    free(b);
    napi_throw_error(env, "ENOMEM", "configure: out of memory");
    return NULL;
  }
  b->job_count = count;
  for (uint32_t i = 0; i < count; i++) {
    napi_value o;
    const char *problem = element(env, argv[0], i, &o) ? read_job(env, o, &b->jobs[i]) : "a job";
    if (problem) {
      free_batch(b);
      napi_throw_type_error(env, NULL, problem);
      return NULL;
    }
  }
  napi_value promise, name;
  napi_create_promise(env, &b->deferred, &promise);
  napi_create_string_utf8(env, "waitlab:netns_config", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, b, &b->work);
  napi_queue_async_work(env, b->work);
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"configure", NULL, configure, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
