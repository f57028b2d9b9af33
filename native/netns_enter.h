// Entering a lab host's network namespace on the calling thread only, for the threads made to work in one.
#ifndef WAITLAB_NETNS_ENTER_H
#define WAITLAB_NETNS_ENTER_H
#include <stddef.h>

// Moves the calling thread (not the process: CLONE_NEWNET is per thread) into the network namespace bound at
// `path` (/run/netns/<name>). 0, or the errno with `*what` naming the failed call.
int enter_netns(const char *path, const char **what);

// Whether `path` may name a namespace file: absolute, within the size given, no "..".
int netns_path_ok(const char *path, size_t length, size_t capacity);

#endif
