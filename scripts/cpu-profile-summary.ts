/**
 * Summarises a V8 CPU profile (the .cpuprofile file `node --cpu-prof`
 * writes) as the functions with the most self time: where the process spent
 * its samples, not counting the functions they called. Used by
 * scripts/bench-socket.ts --profile on the appliance child, and on its own:
 *
 *   node dist/scripts/cpu-profile-summary.js FILE.cpuprofile [--top 15]
 */
import { readFileSync } from 'node:fs';

/** A profile file larger than this is refused: it would not be one run of a benchmark. */
const MAX_PROFILE_BYTES = 512 * 1024 * 1024;
/** Parent links are followed at most this far: a malformed profile with a cycle must not loop forever. */
const MAX_STACK_DEPTH = 10_000;

interface ProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTimeEntry {
  readonly name: string;
  readonly where: string;
  readonly selfMs: number;
  /** Of the busy time: samples in `(idle)` are left out, so shares say what the work costs. */
  readonly share: number;
}

/** V8's pseudo-node for a thread waiting in the event loop. */
const IDLE = '(idle)';

/** `file:line` relative to the project (or node: for built-ins), shortened for a table. */
function location(url: string, line: number): string {
  if (url === '') return '';
  const cut = url.indexOf('/dist/');
  const path = cut >= 0 ? url.slice(cut + 6) : url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/');
  return `${path}:${line + 1}`;
}

export function selfTimes(profile: CpuProfile): { busyMs: number; idleMs: number; entries: SelfTimeEntry[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, { name: string; where: string; us: number }>();
  let busyUs = 0;
  const count = Math.min(profile.samples.length, profile.timeDeltas.length);
  for (let i = 0; i < count; i++) {
    const node = byId.get(profile.samples[i]);
    // A sample's time is the delta to the next one (V8's own convention in DevTools).
    const us = i + 1 < count ? Math.max(0, profile.timeDeltas[i + 1]) : 0;
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = location(url, lineNumber);
    const key = `${name}\u0000${where}`;
    const entry = totals.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    totals.set(key, entry);
    if (name !== IDLE) busyUs += us;
  }
  const entries = [...totals.values()]
    .filter((e) => e.name !== IDLE)
    .sort((a, b) => b.us - a.us)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: busyUs > 0 ? e.us / busyUs : 0 }));
  return { busyMs: busyUs / 1000, idleMs: (totals.get(`${IDLE}\u0000`)?.us ?? 0) / 1000, entries };
}

/**
 * Inclusive time of the project's own functions (files under dist/): each
 * sample counts once for every distinct project function on its stack. It
 * says which layer the self time above is spent under.
 */
export function projectInclusiveTimes(profile: CpuProfile): SelfTimeEntry[] {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, { name: string; where: string; us: number }>();
  let busyUs = 0;
  const count = Math.min(profile.samples.length, profile.timeDeltas.length);
  for (let i = 0; i + 1 < count; i++) {
    const us = Math.max(0, profile.timeDeltas[i + 1]);
    let id: number | undefined = profile.samples[i];
    if (byId.get(id)?.callFrame.functionName === IDLE) continue;
    busyUs += us;
    const seen = new Set<string>();
    for (let depth = 0; id !== undefined && depth < MAX_STACK_DEPTH; depth++, id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame || !frame.url.includes('/dist/')) continue;
      const name = frame.functionName || '(anonymous)';
      const where = location(frame.url, frame.lineNumber);
      const key = `${name}\u0000${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = totals.get(key) ?? { name, where, us: 0 };
      entry.us += us;
      totals.set(key, entry);
    }
  }
  return [...totals.values()]
    .sort((a, b) => b.us - a.us)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: busyUs > 0 ? e.us / busyUs : 0 }));
}

export function readProfile(file: string): CpuProfile {
  const text = readFileSync(file);
  if (text.length > MAX_PROFILE_BYTES) throw new RangeError(`${file} is larger than ${MAX_PROFILE_BYTES} bytes`);
  const profile = JSON.parse(text.toString('utf8')) as CpuProfile;
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new Error(`${file} is not a V8 CPU profile`);
  }
  return profile;
}

function entryLines(entries: readonly SelfTimeEntry[], top: number, label: string): string[] {
  const lines = [`${label.padStart(9)} ${'share'.padStart(6)}  function  (file:line)`];
  for (const e of entries.slice(0, top)) {
    lines.push(`${e.selfMs.toFixed(0).padStart(9)} ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}${e.where ? `  (${e.where})` : ''}`);
  }
  return lines;
}

export function formatSelfTimes(file: string, top: number): string {
  const profile = readProfile(file);
  const { busyMs, idleMs, entries } = selfTimes(profile);
  return [
    `${file}: ${(busyMs / 1000).toFixed(1)} s busy, ${(idleMs / 1000).toFixed(1)} s idle (shares are of the busy time)`,
    `top ${top} by self time:`,
    ...entryLines(entries, top, 'self ms'),
    `top ${top} project functions by inclusive time:`,
    ...entryLines(projectInclusiveTimes(profile), top, 'incl ms'),
  ].join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  const at = process.argv.indexOf('--top');
  const top = at > 0 ? Number(process.argv[at + 1]) : 15;
  if (!file || !Number.isInteger(top) || top < 1) {
    console.error('usage: node dist/scripts/cpu-profile-summary.js FILE.cpuprofile [--top 15]');
    process.exitCode = 2;
  } else {
    console.log(formatSelfTimes(file, top));
  }
}
