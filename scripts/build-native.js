// npm's install step: compiles the addons with node-gyp into build/ inside this package, against the headers
// of the Node that runs it, so nothing is downloaded: the census's netlink one (native/sock_diag.c), the flood's
// native engine (native/flood.c) and the netns lab's host configurator (native/netns_config.c). Without a C compiler
// the census falls back to /proc/net/tcp and every report says so, a flood asking for engine native is refused at plan
// time, and lab hosts are configured by one `ip -batch` and one `sh` each; WAITLAB_NATIVE=required (set by .ci/run)
// makes a failed build fail the install instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const required = process.env.WAITLAB_NATIVE === 'required';

function nodeGyp() {
  // npm hands its own node-gyp to lifecycle scripts; a plain `node scripts/build-native.js` looks beside npm.
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp))
    return process.env.npm_config_node_gyp;
  try {
    return createRequire(join(dirname(process.execPath), '../lib/node_modules/npm/package.json')).resolve(
      'node-gyp/bin/node-gyp.js',
    );
  } catch {
    return undefined;
  }
}

function headersDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/common.gypi')) ? prefix : undefined;
}

const gyp = nodeGyp();
const nodedir = headersDir();
let failure;
if (!gyp) failure = 'node-gyp not found (it comes with npm)';
else if (!nodedir) failure = "Node's headers not found (include/node beside this node, or npm config nodedir)";
else {
  const run = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0)
    failure = `node-gyp rebuild exited ${run.status ?? run.signal} (a C compiler, make and python3 are needed)`;
}
if (failure) {
  process.stderr.write(
    `waitlab: the native addons were not built: ${failure}. The census will read /proc/net/tcp instead (slower at many sockets), and reports say so; a flood's engine native is refused.\n`,
  );
  process.exit(required ? 1 : 0);
}
