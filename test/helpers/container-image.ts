// Images for the compose lab's tests, built here where no registry is reachable: a base FROM scratch holding this
// machine's own node, nginx, tcpdump, sh and setpriv with the libraries `ldd` lists; the compose driver builds the project's
// Dockerfile on top of it (--base-image), as it does for a user. Built with --network none: a build container on Podman's
// default network would switch the machine's net.ipv4.ip_forward on.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PACKAGE_VERSION } from '../../src/core/paths.ts';
import { tempDir } from './temp-dir.ts';

export const TEST_BASE_IMAGE = 'localhost/waitlab-test-base:scratch';
/** A tag of the tests' own, so a user's localhost/waitlab image is never replaced or removed; runs name it in WAITLAB_IMAGE. */
export const WAITLAB_TEST_IMAGE = `localhost/waitlab-test:${PACKAGE_VERSION}`;
// unshare too: the controller checks for it before it plans an nginx (agents that are pid 1 do without it).
const BINARIES = [
  '/usr/bin/node',
  '/usr/sbin/nginx',
  '/usr/bin/tcpdump',
  '/usr/bin/dash',
  '/usr/bin/setpriv',
  '/usr/bin/unshare',
];

/** /lib and /lib64 are links into /usr on a merged-/usr Debian: the copy keeps the loader's paths working. */
function inUsr(path: string): string {
  return path.replace(/^\/lib64\//, '/usr/lib64/').replace(/^\/lib\//, '/usr/lib/');
}

function copyInto(root: string, from: string, to = inUsr(from)): void {
  mkdirSync(join(root, dirname(to)), { recursive: true });
  copyFileSync(realpathSync(from), join(root, to));
}

/** `tag`: a test file of its own names its own, so that one file's cleanup never removes another's base mid-build. */
export function buildTestBaseImage(tag = TEST_BASE_IMAGE): void {
  const context = tempDir('waitlab-image-');
  const root = join(context, 'rootfs');
  try {
    for (const dir of [
      'usr/bin',
      'usr/sbin',
      'usr/lib',
      'usr/lib64',
      'etc',
      'tmp',
      'var/log/nginx',
      'var/lib/nginx',
      'run',
    ])
      mkdirSync(join(root, dir), { recursive: true });
    for (const [link, target] of [
      ['bin', 'usr/bin'],
      ['sbin', 'usr/sbin'],
      ['lib', 'usr/lib'],
      ['lib64', 'usr/lib64'],
    ])
      execFileSync('ln', ['-s', target!, join(root, link!)]);
    for (const binary of BINARIES) {
      copyInto(root, binary);
      const libraries = execFileSync('ldd', [binary], { encoding: 'utf8' }).match(/\/\S+/g) ?? [];
      for (const library of libraries) copyInto(root, library);
    }
    execFileSync('ln', ['-s', 'dash', join(root, 'usr/bin/sh')]);
    writeFileSync(
      join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
    );
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    chmodSync(join(root, 'tmp'), 0o1777);
    writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\n');
    execFileSync(
      'podman',
      ['build', '--quiet', '--network', 'none', '-t', tag, '-f', join(context, 'Containerfile'), context],
      { stdio: 'ignore', timeout: 300_000 },
    );
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

export function removeTestImages(): void {
  // Each on its own: rmi fails on an image that is not there, and one of them may not be.
  for (const image of [WAITLAB_TEST_IMAGE, TEST_BASE_IMAGE])
    spawnSync('podman', ['rmi', '--force', image], { stdio: 'ignore' });
}
