// The hosts of a run that is still going, from its run directory: the "lab built" line of its log.ndjson
// names the lab and each host's namespace, and /run/waitlab/<lab>.json says whether the lab's controller
// still lives (the file the reaper reads). Only namespaces that file lists are ever entered.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { LAB_HOST_NAME } from '../core/host-names.ts';
import { NDJSON_FILE_MAX_BYTES, readInputFile } from '../core/input-file.ts';
import { LAB_NAME, LABS_DIR, processStartTime, type LabOwner } from '../lab/stale-labs.ts';
import { namedNamespace, type WatchTarget } from './watch-target.ts';

interface LabBuilt {
  msg: 'lab built';
  lab: string;
  hosts: Record<string, { name: string; location: string }>;
}

export function liveRunHosts(dirGiven: string): Extract<WatchTarget, { path: string }>[] {
  const dir = resolve(dirGiven);
  const logFile = join(dir, 'log.ndjson');
  if (!existsSync(logFile)) throw new UsageError(`--run ${dirGiven}: not a run directory (no log.ndjson)`);
  let built: LabBuilt | undefined;
  let ended = false;
  for (const line of readInputFile(logFile, NDJSON_FILE_MAX_BYTES).split('\n')) {
    if (!line.includes('"lab ')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string };
      if (entry.msg === 'lab built') built = entry as LabBuilt;
      if (entry.msg === 'lab torn down') ended = true;
    } catch {
      // a line being written
    }
  }
  if (!built) throw new UsageError(`--run ${dirGiven}: the run has not built its lab (yet)`);
  // The name becomes a path under /run/waitlab: a lab's name (wl<pid>n<k>) or nothing.
  if (!LAB_NAME.test(built.lab))
    throw new UsageError(`--run ${dirGiven}: its log names lab ${JSON.stringify(built.lab)}, which is no lab's name`);
  if (typeof built.hosts !== 'object' || built.hosts === null)
    throw new UsageError(`--run ${dirGiven}: its log's "lab built" line lists no hosts`);
  // Each name is passed to a reader inside the namespace: a lab host's name, or nothing ("--help" was an option there).
  for (const [name, host] of Object.entries(built.hosts)) {
    if (!LAB_HOST_NAME.test(name))
      throw new UsageError(
        `--run ${dirGiven}: its log names host ${JSON.stringify(name)}, which is no lab host's name`,
      );
    if (host?.location !== `${built.lab}-${name}`)
      throw new UsageError(
        `--run ${dirGiven}: its log puts host ${name} in namespace ${JSON.stringify(host?.location)}, not ${built.lab}-${name}`,
      );
  }
  if (ended) throw new UsageError(`--run ${dirGiven}: the run is over, its lab ${built.lab} is torn down`);
  let owner: LabOwner;
  try {
    owner = JSON.parse(readFileSync(join(LABS_DIR, `${built.lab}.json`), 'utf8')) as LabOwner;
  } catch {
    throw new UsageError(
      `--run ${dirGiven}: lab ${built.lab} is not on this machine (no ${LABS_DIR}/${built.lab}.json)`,
    );
  }
  if (processStartTime(owner.pid) !== owner.startTime)
    throw new UsageError(`--run ${dirGiven}: the run's controller (pid ${owner.pid}) is gone`);
  return Object.entries(built.hosts).map(([name, host]) => {
    if (!owner.namespaces.includes(host.location))
      throw new UsageError(
        `--run ${dirGiven}: host ${name}'s namespace ${host.location} is not one of lab ${built.lab}'s`,
      );
    return namedNamespace(host.location, name);
  });
}
