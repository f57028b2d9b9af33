// The image of a compose lab, built from the package's Dockerfile when it is missing, as `docker compose up --build`
// would. The base must already be here or be pullable; where no registry answers, the user names a local one.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidValueError, LabUnavailableError } from '../core/errors.ts';
import { PACKAGE_ROOT, PACKAGE_VERSION } from '../core/paths.ts';
import { IMAGE_REF } from './compose-file.ts';
import { buildContext } from './build-context.ts';
import type { Engine } from './container-engine.ts';

/** The image every container of a compose lab runs unless --image or WAITLAB_IMAGE names another. */
export const DEFAULT_LAB_IMAGE = `localhost/waitlab:${PACKAGE_VERSION}`;
/** The Dockerfile's own default base: Node 20 on Debian 12, from Docker Hub. */
export const DEFAULT_BASE_IMAGE = 'docker.io/library/node:20-bookworm-slim';
const BUILD_TIMEOUT_MS = 15 * 60_000;
const PULL_TIMEOUT_MS = 120_000;
// Podman's default build limits (nofile 1048576) can be above the machine's hard limits.
const PODMAN_BUILD_LIMITS = ['--ulimit', 'nofile=16384:16384', '--ulimit', 'nproc=32768:32768'];

/** The image every container runs: --image (which the CLI passes on as WAITLAB_IMAGE), WAITLAB_IMAGE, or DEFAULT_LAB_IMAGE. */
export function labImage(given: string | undefined = process.env['WAITLAB_IMAGE']): string {
  const image = given ?? DEFAULT_LAB_IMAGE;
  if (!IMAGE_REF.test(image))
    throw new InvalidValueError(`--image (WAITLAB_IMAGE) "${image}" is not an image reference (name[:tag])`);
  return image;
}

/** The base image a build starts from: --base-image (passed on as WAITLAB_BASE_IMAGE), WAITLAB_BASE_IMAGE, or the Dockerfile's default. */
export function baseImage(given: string | undefined = process.env['WAITLAB_BASE_IMAGE']): string {
  const base = given ?? DEFAULT_BASE_IMAGE;
  if (!IMAGE_REF.test(base))
    throw new InvalidValueError(`--base-image (WAITLAB_BASE_IMAGE) "${base}" is not an image reference (name[:tag])`);
  return base;
}

function imageExists(engine: Engine, image: string): boolean {
  return (
    spawnSync(engine, ['image', 'inspect', '--format', '{{.Id}}', image], { stdio: 'ignore', timeout: 15_000 })
      .status === 0
  );
}

function lastLines(text: string | undefined, n = 3): string {
  return (text ?? '').trim().split('\n').slice(-n).join(' / ') || 'no output';
}

/** Makes sure `image` is there: present, or built now from the Dockerfile over the base. Says on stderr when it builds. */
export function ensureLabImage(
  engine: Engine,
  image: string,
  log: (msg: string, data?: Record<string, unknown>) => void,
): void {
  if (imageExists(engine, image)) return;
  const dockerfile = join(PACKAGE_ROOT, 'Dockerfile');
  if (!existsSync(dockerfile))
    throw new LabUnavailableError(
      `image ${image} is not there, and ${PACKAGE_ROOT} has no Dockerfile to build it from; name an image that is there with --image NAME (or WAITLAB_IMAGE)`,
    );
  const base = baseImage();
  if (!imageExists(engine, base)) {
    process.stderr.write(`waitlab: image ${image} is missing; pulling its base ${base} to build it\n`);
    const pull = spawnSync(engine, ['pull', '--quiet', base], { encoding: 'utf8', timeout: PULL_TIMEOUT_MS });
    if (pull.status !== 0) {
      throw new LabUnavailableError(
        `image ${image} is not there, and building it needs the base image ${base}, which is not here and could not be pulled (${lastLines(pull.stderr || pull.error?.message, 1)}). ` +
          'Name a local image with Node 20 (and nginx, setpriv, unshare: the build runs with no network) with --base-image NAME (or WAITLAB_BASE_IMAGE)',
      );
    }
  }
  const context = buildContext(PACKAGE_ROOT);
  // No network for the build: a build container on Podman's default network would switch the machine's ip_forward on.
  const args = [
    'build',
    '--quiet',
    '--network',
    'none',
    ...(engine === 'podman' ? PODMAN_BUILD_LIMITS : []),
    '--build-arg',
    `BASE=${base}`,
    '-t',
    image,
    context.dir,
  ];
  process.stderr.write(
    `waitlab: building image ${image} from ${dockerfile} on ${base} (once: later runs reuse it)${context.staged ? `; ${context.staged} dependencies npm installed outside the package are copied into a staged context` : ''}\n`,
  );
  log('building the lab image', { image, base, command: [engine, ...args], stagedDependencies: context.staged });
  let built: SpawnSyncReturns<string>;
  try {
    built = spawnSync(engine, args, { encoding: 'utf8', timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 2 ** 20 });
  } finally {
    context.remove();
  }
  if (built.status !== 0) {
    throw new LabUnavailableError(
      `${engine} build of ${image} on ${base} failed (exit ${built.status ?? 'signal'}): ${lastLines(built.stderr || built.error?.message)}. A base without nginx, tcpdump, setpriv and unshare needs apt-get, which a build with no network cannot run: use a base that has them`,
    );
  }
  log('lab image built', { image, base });
}
