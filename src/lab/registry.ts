// One registry, one file per lab driver. A new driver is a file exporting a LabDriver and a line here.
import { UsageError } from '../core/errors.ts';
import type { LabDriver } from './driver.ts';
import { attachedDriver } from './attached-driver.ts';
import { composeDriver } from './compose-driver.ts';
import { kubeDriver } from './kube-driver.ts';
import { netnsDriver } from './netns-driver.ts';

export const LAB_DRIVERS: readonly LabDriver[] = [netnsDriver, composeDriver, kubeDriver, attachedDriver];

export function labDriver(name: string): LabDriver {
  const driver = LAB_DRIVERS.find((d) => d.name === name);
  if (!driver)
    throw new UsageError(`no lab driver "${name}": known drivers are ${LAB_DRIVERS.map((d) => d.name).join(', ')}`);
  return driver;
}
