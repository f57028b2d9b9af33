// Entering a lab host's network namespace on the calling thread only, for the threads made to work in one.
#ifndef WAITLAB_NETNS_ENTER_H
#define WAITLAB_NETNS_ENTER_H
#include <node_api.h>
#include <stddef.h>

// Moves the calling thread (not the process: CLONE_NEWNET is per thread) into the network namespace bound at
// `path` (/run/netns/<name>). 0, or the errno with `*what` naming the failed call.
int enter_netns(const char *path, const char **what);

// Calls fn(arg) with the calling thread in the network namespace bound at `path`, and puts the thread back into
// the namespace it was in before returning. 0, or the errno of entering with `*what` naming the call (fn not
// called). The process aborts where the way back fails.
int in_netns(const char *path, void (*fn)(void *), void *arg, const char **what);

// Whether `path` may name a namespace file: absolute, within the size given, no "..".
int netns_path_ok(const char *path, size_t length, size_t capacity);

// Copies the string `value` whole into buf (capacity `capacity`), its length in *length; 0 for a non-string or one
// that does not fit. napi cuts a long string short at a character boundary, which a length check after the copy
// cannot tell from a shorter string: the whole length is asked for first.
int whole_string(napi_env env, napi_value value, char *buf, size_t capacity, size_t *length);

#endif
