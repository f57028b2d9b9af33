// The census counted in C: one handle per sampler, its dumps deduplicated and counted in place on libuv's
// thread pool, JavaScript handed a table of counts instead of a record per socket.
#ifndef WAITLAB_CENSUS_H
#define WAITLAB_CENSUS_H
#include <node_api.h>

// censusCreate(fd, serverPorts: Uint16Array): a handle counting the sockets of fd's namespace.
napi_value census_create(napi_env env, napi_callback_info info);
// censusTake(handle): a promise of an ArrayBuffer of uint32 (layout in census.c).
napi_value census_take(napi_env env, napi_callback_info info);

#endif
