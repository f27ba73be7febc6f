// Host gauges of the demo target: memory %, CPU %, disk % and CPU temperature.
// Parsers are pure (tested with hand-written /proc and /sys samples); readers are thin and take
// injectable roots so tests (and containers that mount the host's /proc elsewhere) can point them
// at another directory. A value that cannot be read is left out of the scrape, never faked.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Gauge, type Registry } from 'prom-client';

export interface HostPaths {
  /** Where procfs is mounted (default /proc). */
  procRoot: string;
  /** Where sysfs is mounted (default /sys). */
  sysRoot: string;
  /** A path on the filesystem whose usage is reported (default /). */
  diskPath: string;
}

export const DEFAULT_HOST_PATHS: HostPaths = { procRoot: '/proc', sysRoot: '/sys', diskPath: '/' };

// ---------------------------------------------------------------------------------------------
// Pure parsers

export interface MemInfo {
  totalKiB: number;
  availableKiB: number;
}

/** Reads MemTotal and MemAvailable (kB) out of /proc/meminfo text. */
export function parseMeminfo(text: string): MemInfo {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+)/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) fields.set(match[1], Number(match[2]));
  }
  const totalKiB = fields.get('MemTotal');
  const availableKiB = fields.get('MemAvailable');
  if (totalKiB === undefined || availableKiB === undefined) {
    // MemAvailable exists since Linux 3.14; without it "used" would be a guess.
    throw new Error('meminfo: MemTotal and MemAvailable are both required');
  }
  return { totalKiB, availableKiB };
}

/** Used memory in percent, counting reclaimable cache as available (like `free`'s "available"). */
export function memoryUsedPercent(mem: MemInfo): number {
  if (mem.totalKiB <= 0) throw new Error('meminfo: MemTotal must be positive');
  return ((mem.totalKiB - mem.availableKiB) / mem.totalKiB) * 100;
}

/** Cumulative CPU time of all CPUs, in jiffies, from the aggregate `cpu` line of /proc/stat. */
export interface CpuTimes {
  idle: number;
  total: number;
}

export function parseProcStat(text: string): CpuTimes {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (line === undefined) throw new Error('/proc/stat: no aggregate "cpu" line');
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  if (values.length < 4 || values.some((v) => !Number.isFinite(v))) {
    throw new Error(`/proc/stat: malformed cpu line "${line}"`);
  }
  // user nice system idle iowait irq softirq steal; guest/guest_nice (9th, 10th) are already
  // included in user/nice, so adding them would count that time twice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
  return { idle: idle + iowait, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

/** Busy share of CPU time between two samples, or undefined when no time passed between them. */
export function cpuUsedPercent(previous: CpuTimes, current: CpuTimes): number | undefined {
  const total = current.total - previous.total;
  const idle = current.idle - previous.idle;
  if (total <= 0) return undefined;
  return Math.min(100, Math.max(0, ((total - idle) / total) * 100));
}

export interface FsBlocks {
  blocks: number;
  bfree: number;
  bavail: number;
}

/**
 * Used space in percent as `df` shows it: blocks reserved for root count neither as used nor as
 * available, so a full disk shows 100 % even though root could still write.
 */
export function diskUsedPercent(fsStats: FsBlocks): number {
  const used = fsStats.blocks - fsStats.bfree;
  const usable = used + fsStats.bavail;
  if (usable <= 0) throw new Error('statfs: filesystem reports no usable blocks');
  return (used / usable) * 100;
}

/** Kernel temperature files hold millidegrees Celsius; out-of-range values are driver placeholders. */
export function parseMillidegrees(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) return undefined;
  const celsius = Number(trimmed) / 1000;
  return celsius >= -50 && celsius <= 150 ? celsius : undefined;
}

export interface TemperatureSensor {
  /** The file holding the reading. */
  file: string;
  /** What the kernel calls it: the thermal zone's type, or the hwmon chip name (+ channel label). */
  name: string;
}

// Names the kernel gives to CPU die/package sensors (Intel, AMD, ARM SoCs).
const CPU_SENSOR_NAMES: readonly RegExp[] = [/^x86_pkg_temp$/, /^coretemp\b/, /^k10temp\b/, /^zenpower\b/, /^cpu[-_]?thermal/i, /cpu/i, /^soc[-_]?thermal/i];

/**
 * Picks the sensor reported as "CPU temperature": the first one whose name looks like a CPU
 * sensor (in the order above), else the first one found; the chosen name is exported as the
 * `sensor` label so nobody mistakes a board sensor for the die temperature.
 */
export function chooseCpuSensor(sensors: readonly TemperatureSensor[]): TemperatureSensor | undefined {
  for (const pattern of CPU_SENSOR_NAMES) {
    const match = sensors.find((s) => pattern.test(s.name));
    if (match) return match;
  }
  return sensors[0];
}

// ---------------------------------------------------------------------------------------------
// Thin readers

export async function readMemoryUsedPercent(procRoot: string): Promise<number> {
  return memoryUsedPercent(parseMeminfo(await fs.readFile(path.join(procRoot, 'meminfo'), 'utf8')));
}

export async function readCpuTimes(procRoot: string): Promise<CpuTimes> {
  return parseProcStat(await fs.readFile(path.join(procRoot, 'stat'), 'utf8'));
}

export async function readDiskUsedPercent(diskPath: string): Promise<number> {
  return diskUsedPercent(await fs.statfs(diskPath));
}

async function readTrimmed(file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return [];
  }
}

/** Reads one sensor; undefined when the file is missing, unreadable (EIO is common) or bogus. */
export async function readSensorCelsius(sensor: TemperatureSensor): Promise<number | undefined> {
  const text = await readTrimmed(sensor.file);
  return text === undefined ? undefined : parseMillidegrees(text);
}

/**
 * Finds the temperature sensors that give a plausible reading right now, thermal zones first
 * (`<sys>/class/thermal/thermal_zone*\/temp`), then hwmon channels (`<sys>/class/hwmon/*\/temp*_input`).
 */
export async function discoverTemperatureSensors(sysRoot: string): Promise<TemperatureSensor[]> {
  const candidates: TemperatureSensor[] = [];
  const thermalDir = path.join(sysRoot, 'class', 'thermal');
  for (const zone of await listDir(thermalDir)) {
    if (!zone.startsWith('thermal_zone')) continue;
    const type = (await readTrimmed(path.join(thermalDir, zone, 'type'))) ?? zone;
    candidates.push({ file: path.join(thermalDir, zone, 'temp'), name: type });
  }
  const hwmonDir = path.join(sysRoot, 'class', 'hwmon');
  for (const chip of await listDir(hwmonDir)) {
    const chipName = (await readTrimmed(path.join(hwmonDir, chip, 'name'))) ?? chip;
    for (const entry of await listDir(path.join(hwmonDir, chip))) {
      const channel = /^(temp\d+)_input$/.exec(entry)?.[1];
      if (channel === undefined) continue;
      const label = await readTrimmed(path.join(hwmonDir, chip, `${channel}_label`));
      candidates.push({
        file: path.join(hwmonDir, chip, entry),
        name: label ? `${chipName} ${label}` : chipName,
      });
    }
  }
  const readable: TemperatureSensor[] = [];
  for (const sensor of candidates) {
    if ((await readSensorCelsius(sensor)) !== undefined) readable.push(sensor);
  }
  return readable;
}

// ---------------------------------------------------------------------------------------------
// Registration

/**
 * A gauge whose samples are left out of the scrape while its last reading failed: prom-client
 * would otherwise export a label-less gauge as 0, which is a fake value.
 */
class ReadingGauge extends Gauge<string> {
  private readable = false;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], read: () => Promise<{ value: number; labels?: Record<string, string> } | undefined>) {
    super({
      name,
      help,
      labelNames,
      registers: [registry],
      collect: async () => {
        let reading: Awaited<ReturnType<typeof read>>;
        try {
          reading = await read();
        } catch {
          reading = undefined;
        }
        this.readable = reading !== undefined;
        this.reset();
        if (reading !== undefined) this.set(reading.labels ?? {}, reading.value);
      },
    });
  }

  override async get() {
    const metric = await super.get();
    return this.readable ? metric : { ...metric, values: [] };
  }
}

export const HOST_METRIC_NAMES = {
  memory: 'target_host_memory_used_percent',
  cpu: 'target_host_cpu_used_percent',
  disk: 'target_host_disk_used_percent',
  temperature: 'target_host_cpu_temperature_celsius',
} as const;

export interface HostMetricsHandle {
  /** The sensor behind the temperature gauge, or undefined when the machine has none. */
  temperatureSensor: TemperatureSensor | undefined;
}

/**
 * Registers the host gauges. Each is read at scrape time; the temperature gauge is registered
 * only when a sensor gave a reading at startup (machines and VMs without sensors get no such
 * series at all).
 */
export async function registerHostMetrics(registry: Registry, paths: HostPaths = DEFAULT_HOST_PATHS): Promise<HostMetricsHandle> {
  new ReadingGauge(registry, HOST_METRIC_NAMES.memory, 'Host memory in use (MemTotal - MemAvailable), percent', [], async () => ({
    value: await readMemoryUsedPercent(paths.procRoot),
  }));

  // CPU usage is a rate: each scrape reports the busy share since the previous scrape (the first
  // one since startup). When two scrapes fall in the same jiffy the previous figure stands.
  let previousTimes: CpuTimes | undefined = await readCpuTimes(paths.procRoot).catch(() => undefined);
  let lastCpuPercent: number | undefined;
  new ReadingGauge(registry, HOST_METRIC_NAMES.cpu, 'Host CPU busy time since the previous scrape, percent of all CPUs', [], async () => {
    const current = await readCpuTimes(paths.procRoot);
    const percent = previousTimes === undefined ? undefined : cpuUsedPercent(previousTimes, current);
    if (percent !== undefined || previousTimes === undefined) {
      previousTimes = current;
      lastCpuPercent = percent;
    }
    return lastCpuPercent === undefined ? undefined : { value: lastCpuPercent };
  });

  new ReadingGauge(registry, HOST_METRIC_NAMES.disk, 'Used space of the filesystem holding the given path, percent (as df shows it)', ['path'], async () => ({
    value: await readDiskUsedPercent(paths.diskPath),
    labels: { path: paths.diskPath },
  }));

  const temperatureSensor = chooseCpuSensor(await discoverTemperatureSensors(paths.sysRoot));
  if (temperatureSensor !== undefined) {
    new ReadingGauge(registry, HOST_METRIC_NAMES.temperature, 'CPU temperature from the Linux thermal/hwmon sensor named in the sensor label', ['sensor'], async () => {
      const celsius = await readSensorCelsius(temperatureSensor);
      return celsius === undefined ? undefined : { value: celsius, labels: { sensor: temperatureSensor.name } };
    });
  }
  return { temperatureSensor };
}
