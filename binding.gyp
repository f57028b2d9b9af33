{
  "targets": [
    {
      "target_name": "sock_diag",
      "sources": ["native/sock_diag.c", "native/diag_dump.c", "native/census.c", "native/netns_socket.c", "native/netns_enter.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "netns_config",
      "sources": ["native/netns_config.c", "native/netns_enter.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "flood",
      "sources": ["native/flood.c", "native/netns_enter.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "netns_files",
      "sources": ["native/netns_files.c", "native/netns_enter.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
