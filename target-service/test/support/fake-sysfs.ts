// Builds throwaway /sys trees with the thermal and hwmon files the temperature reader looks at.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface FakeSysfs {
  root: string;
  thermalZone(index: number, type: string, temp: string): void;
  hwmon(index: number, chip: string, channels: Record<string, { input: string; label?: string }>): void;
  remove(): void;
}

export function makeFakeSysfs(): FakeSysfs {
  const root = mkdtempSync(path.join(os.tmpdir(), 'vigil-sysfs-'));
  mkdirSync(path.join(root, 'class', 'thermal'), { recursive: true });
  mkdirSync(path.join(root, 'class', 'hwmon'), { recursive: true });
  return {
    root,
    thermalZone(index, type, temp) {
      const dir = path.join(root, 'class', 'thermal', `thermal_zone${index}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'type'), `${type}\n`);
      writeFileSync(path.join(dir, 'temp'), `${temp}\n`);
    },
    hwmon(index, chip, channels) {
      const dir = path.join(root, 'class', 'hwmon', `hwmon${index}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'name'), `${chip}\n`);
      for (const [channel, { input, label }] of Object.entries(channels)) {
        writeFileSync(path.join(dir, `${channel}_input`), `${input}\n`);
        if (label !== undefined) writeFileSync(path.join(dir, `${channel}_label`), `${label}\n`);
      }
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
