import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import {
  chooseCpuSensor,
  cpuUsedPercent,
  discoverTemperatureSensors,
  diskUsedPercent,
  memoryUsedPercent,
  parseMeminfo,
  parseMillidegrees,
  parseProcStat,
  registerHostMetrics,
} from './host-metrics.js';
import { makeFakeSysfs, type FakeSysfs } from '../test/support/fake-sysfs.js';

const fixtures = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'proc');
const fixture = (name: string) => readFileSync(path.join(fixtures, name), 'utf8');

describe('meminfo', () => {
  it('reads MemTotal and MemAvailable and counts the rest as used', () => {
    const mem = parseMeminfo(fixture('meminfo'));
    expect(mem).toEqual({ totalKiB: 8_000_000, availableKiB: 2_000_000 });
    expect(memoryUsedPercent(mem)).toBe(75);
  });

  it('refuses a meminfo without MemAvailable instead of guessing', () => {
    expect(() => parseMeminfo('MemTotal: 100 kB\nMemFree: 50 kB\n')).toThrow(/MemAvailable/);
  });
});

describe('/proc/stat', () => {
  it('sums the aggregate cpu line without the guest columns, counting iowait as idle', () => {
    // user 1000 nice 50 system 300 idle 8000 iowait 100 irq 10 softirq 40 steal 0 (guest 200 left out)
    expect(parseProcStat(fixture('stat'))).toEqual({ idle: 8100, total: 9500 });
  });

  it('accepts the short cpu line of old kernels', () => {
    expect(parseProcStat('cpu  10 0 5 85\n')).toEqual({ idle: 85, total: 100 });
  });

  it('rejects text without an aggregate cpu line', () => {
    expect(() => parseProcStat('cpu0 1 2 3 4\n')).toThrow(/no aggregate "cpu" line/);
  });

  it('gives the busy share between two samples', () => {
    expect(cpuUsedPercent({ idle: 100, total: 200 }, { idle: 175, total: 300 })).toBe(25);
    expect(cpuUsedPercent({ idle: 100, total: 200 }, { idle: 100, total: 200 })).toBeUndefined();
  });
});

describe('disk usage', () => {
  it('matches df: reserved blocks are neither used nor available', () => {
    // 1000 blocks, 300 free of which 100 only for root: used 700 of 700+200.
    expect(diskUsedPercent({ blocks: 1000, bfree: 300, bavail: 200 })).toBeCloseTo(77.777, 2);
    expect(diskUsedPercent({ blocks: 1000, bfree: 100, bavail: 0 })).toBe(100);
  });
});

describe('temperature files', () => {
  it('converts millidegrees and drops placeholder values', () => {
    expect(parseMillidegrees('48500\n')).toBe(48.5);
    expect(parseMillidegrees('-5000')).toBe(-5);
    expect(parseMillidegrees('')).toBeUndefined();
    expect(parseMillidegrees('-273150')).toBeUndefined();
    expect(parseMillidegrees('255000')).toBeUndefined();
    expect(parseMillidegrees('n/a')).toBeUndefined();
  });

  it('prefers a CPU package sensor over board sensors, else takes the first', () => {
    const acpi = { file: 'a', name: 'acpitz' };
    const nvme = { file: 'b', name: 'nvme Composite' };
    const pkg = { file: 'c', name: 'x86_pkg_temp' };
    const k10 = { file: 'd', name: 'k10temp Tctl' };
    expect(chooseCpuSensor([acpi, nvme, pkg])).toBe(pkg);
    expect(chooseCpuSensor([nvme, k10, acpi])).toBe(k10);
    expect(chooseCpuSensor([acpi, nvme])).toBe(acpi);
    expect(chooseCpuSensor([])).toBeUndefined();
  });
});

describe('sensor discovery on a fake sysfs', () => {
  let sys: FakeSysfs;
  beforeEach(() => {
    sys = makeFakeSysfs();
  });
  afterEach(() => sys.remove());

  it('finds nothing on a machine without sensors', async () => {
    expect(await discoverTemperatureSensors(sys.root)).toEqual([]);
  });

  it('finds nothing when /sys has no class directory at all', async () => {
    expect(await discoverTemperatureSensors(path.join(sys.root, 'missing'))).toEqual([]);
  });

  it('lists readable thermal zones and hwmon channels, skipping unreadable ones', async () => {
    sys.thermalZone(0, 'acpitz', '27800');
    sys.thermalZone(1, 'x86_pkg_temp', '-273150'); // a zone whose driver returns a placeholder
    sys.hwmon(0, 'coretemp', { temp1: { input: '51000', label: 'Package id 0' }, temp2: { input: '49000', label: 'Core 0' } });
    sys.hwmon(1, 'nvme', { temp1: { input: '38850' } });
    const sensors = await discoverTemperatureSensors(sys.root);
    expect(sensors.map((s) => s.name)).toEqual(['acpitz', 'coretemp Package id 0', 'coretemp Core 0', 'nvme']);
    expect(chooseCpuSensor(sensors)?.name).toBe('coretemp Package id 0');
  });
});

describe('registerHostMetrics', () => {
  let sys: FakeSysfs;
  beforeEach(() => {
    sys = makeFakeSysfs();
  });
  afterEach(() => sys.remove());

  const paths = () => ({ procRoot: fixtures, sysRoot: sys.root, diskPath: fixtures });

  it('exports memory and disk, and no temperature series without sensors', async () => {
    const registry = new Registry();
    const handle = await registerHostMetrics(registry, paths());
    const text = await registry.metrics();
    expect(handle.temperatureSensor).toBeUndefined();
    expect(text).toMatch(/^target_host_memory_used_percent 75$/m);
    expect(text).toMatch(new RegExp(`^target_host_disk_used_percent\\{path="${fixtures}"\\} \\d+(\\.\\d+)?$`, 'm'));
    expect(text).not.toContain('target_host_cpu_temperature_celsius');
    // The fixture /proc/stat never changes, so no CPU time passed: no sample rather than a made-up 0.
    expect(text).not.toMatch(/^target_host_cpu_used_percent /m);
  });

  it('exports the CPU sensor reading in degrees with the sensor named', async () => {
    sys.thermalZone(0, 'acpitz', '27800');
    sys.thermalZone(1, 'x86_pkg_temp', '45250');
    const registry = new Registry();
    const handle = await registerHostMetrics(registry, paths());
    expect(handle.temperatureSensor?.name).toBe('x86_pkg_temp');
    expect(await registry.metrics()).toMatch(/^target_host_cpu_temperature_celsius\{sensor="x86_pkg_temp"\} 45.25$/m);
  });

  it('drops a gauge sample while its file cannot be read', async () => {
    sys.thermalZone(0, 'cpu-thermal', '45000');
    const registry = new Registry();
    await registerHostMetrics(registry, { ...paths(), diskPath: path.join(sys.root, 'no-such-dir') });
    sys.remove(); // the sensor disappears after startup
    const text = await registry.metrics();
    expect(text).not.toMatch(/^target_host_cpu_temperature_celsius\{/m);
    expect(text).not.toMatch(/^target_host_disk_used_percent\{/m);
    expect(text).toMatch(/^target_host_memory_used_percent 75$/m);
  });
});
