// The top frames of a V8 CPU profile (node --cpu-prof, or BENCH_PARTITIONS_PROFILE): self time per
// function, with its file and line, largest first. What docs/benchmarks.md quotes as "the profile".
//   node --import tsx bench/profile-top.ts <file.cpuprofile> [count, default 25] [--by-file]
// --by-file sums self time per source file instead (which stage dominates).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self milliseconds per frame (name, file:line), largest first, and the profile's total. */
export function topFrames(profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }, byFile = false): { frame: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  // Each sample's time is the delta to the next one (V8's own accounting, as DevTools does).
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(operator|bench|node_modules)\//, '$1/');
    const frame = byFile ? file || functionName : `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    self.set(frame, (self.get(frame) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  });
  return [...self].map(([frame, ms]) => ({ frame, ms })).sort((a, b) => b.ms - a.ms);
}

/**
 * Runs `fn` (synchronous work) and returns its value; with a `dir`, under the V8 CPU profiler, the
 * profile written to <dir>/<name>.cpuprofile (read it with topFrames). Without one, no profiler runs.
 */
export async function cpuProfiled<T>(dir: string | undefined, name: string, fn: () => T): Promise<T> {
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const value = fn();
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    return value;
  } finally {
    session.disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const frames = topFrames(JSON.parse(readFileSync(process.argv[2]!, 'utf8')), process.argv.includes('--by-file'));
  const total = frames.reduce((s, f) => s + f.ms, 0);
  console.log(`total ${total.toFixed(0)} ms sampled`);
  for (const f of frames.slice(0, Number(process.argv[3] ?? '25'))) console.log(`${f.ms.toFixed(1).padStart(9)} ms ${((100 * f.ms) / total).toFixed(1).padStart(5)}%  ${f.frame}`);
}
