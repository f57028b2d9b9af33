// A thread left in a lab host's namespace would do its next task there (a DNS lookup, a file read for another
// host): enter_netns is for threads made for one namespace (a flood's, the configurator's), and in_netns, for a
// synchronous call on any thread (the event loop's), returns the thread to its own namespace before it returns.
#define _GNU_SOURCE
#include "netns_enter.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
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

// No thread is made: a thread made and joined from the event loop waits for a CPU to start on, 0.05 ms on an idle
// machine and over a millisecond on a busy 2-core one, and an agent of many hosts entered each of 100 hosts four
// times at its start. The call is synchronous, so nothing else runs on this thread while it is in the host. One
// thing does see it from another thread: /proc/self/net (and /proc/net, its link) resolves through the thread group
// leader, so a pool thread opening /proc/net/... while the event loop's thread is in a host would open the host's.
// Waitlab opens /proc/net by path only synchronously or in processes that never call this (an agent of one host).
int in_netns(const char *path, void (*fn)(void *), void *arg, const char **what) {
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    *what = "open(/proc/thread-self/ns/net)";
    return errno;
  }
  int err = enter_netns(path, what);
  if (err) {
    close(home);
    return err;
  }
  fn(arg);
  if (setns(home, CLONE_NEWNET) < 0) {
    // Going on would read and write the next host's files in this one: stop the process instead.
    fprintf(stderr, "waitlab: could not return a thread from namespace %s: %s\n", path, strerror(errno));
    abort();
  }
  close(home);
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
