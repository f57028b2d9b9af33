# The image of a compose lab: Node 20 with nginx and tcpdump (--capture), and waitlab at /opt/waitlab. Every service
# of a compose file that `waitlab compose` writes runs it: each host's agent, and the controller.
#   npm ci && docker compose up --build --exit-code-from waitlab
# BASE is any image with node 20 (and, to skip apt-get, nginx, tcpdump and util-linux's setpriv and unshare): the tests
# build one FROM scratch out of this machine's own binaries, since no registry is reachable there.
ARG BASE=docker.io/library/node:20-bookworm-slim
FROM ${BASE}
RUN if ! command -v nginx >/dev/null || ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null || ! command -v tcpdump >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends nginx util-linux tcpdump && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /opt/waitlab
# What `npm ci` made in the checkout: dist/ (its prepare step), node_modules, and the census's netlink addon
# where a compiler built it (an addon this image cannot load leaves the census on /proc/net/tcp, as the report
# says). .dockerignore lets nothing else in.
COPY . ./
# No entrypoint script in between: each agent must be pid 1 of its container (actors/guarded-child.ts).
ENTRYPOINT []
CMD ["node", "/opt/waitlab/bin/waitlab.js", "--help"]
