// Whether this process runs in a user namespace (a rootless run): there uid 0 is not the machine's root, and
// only a part of the uid space is mapped. One answer for the lab's privilege and for nginx's process model.
import { readFileSync } from 'node:fs';

export function inUserNamespace(): boolean {
  try {
    return readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') !== '0 0 4294967295';
  } catch {
    return false;
  }
}
