/**
 * The cells of the socket benchmark (scripts/bench-socket.ts) as table rows:
 * one closed or pipelined cell on a real appliance child, with its CPU time
 * per response and its audit group commits, beside the same cell on the echo
 * ceiling. Shared by the single-node rows and the clustered ones
 * (scripts/bench-socket-cluster.ts), so both are measured and printed alike.
 */
import { Child } from './bench-child';
import { CellResult, CellSpec, Lane, runCell } from './bench-socket-load';

/** A cell's bounds: warm-up, then a time or a request count, whichever first. */
export interface CellBounds {
  readonly warmupMs: number;
  readonly maxMs: number;
  readonly maxRequests: number;
}

/** What a cell sends: prebuilt frames picked at random, or with `pick` a fresh frame per request (Create: a new name each). */
export interface RequestSource {
  readonly requests: Buffer[];
  readonly pick?: () => Buffer;
}

export interface Row {
  readonly op: string;
  readonly connections: number;
  readonly mode: 'closed' | 'pipelined';
  readonly real: CellResult;
  readonly echo: CellResult;
  readonly ratio: number;
  /** The appliance process's CPU time (all threads) over the cell's responses, warm-up included: steadier than ops/s on a busy machine. */
  readonly serverUsPerOp: number;
  /** KMIP rows: ops/s over the native Get's measured just before it (the `Get beside KMIP` row), same connections, closed loop (NaN when Get is not measured). */
  readonly vsNative?: number;
  /** The cell's audit group commits: their mean time (ms) and events each; both wires' answers wait for one. */
  readonly commitMs: number;
  readonly eventsPerCommit: number;
}

export function fixed(value: number, digits: number, width: number): string {
  return (Number.isFinite(value) ? value.toFixed(digits) : '-').padStart(width);
}

export function table(rows: readonly Row[]): string {
  const head = `${'op'.padEnd(22)}${'conns'.padStart(6)}  ${'mode'.padEnd(10)}${'ops/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'srv µs/op'.padStart(11)}${'echo ops/s'.padStart(12)}${'echo p99'.padStart(10)}${'ratio'.padStart(8)}${'commit ms'.padStart(11)}${'ev/commit'.padStart(11)}${'KMIP/native'.padStart(13)}`;
  const lines = rows.map(
    (r) =>
      `${r.op.padEnd(22)}${String(r.connections).padStart(6)}  ${r.mode.padEnd(10)}${fixed(r.real.opsPerSecond, 0, 9)}${fixed(r.real.p50ms, 2, 9)}${fixed(r.real.p99ms, 2, 9)}${fixed(r.serverUsPerOp, 0, 11)}` +
      `${fixed(r.echo.opsPerSecond, 0, 12)}${fixed(r.echo.p99ms, 2, 10)}${fixed(r.ratio, 3, 8)}${fixed(r.commitMs, 2, 11)}${fixed(r.eventsPerCommit, 1, 11)}${r.vsNative === undefined ? '' : fixed(r.vsNative, 3, 13)}`,
  );
  return [head, ...lines].join('\n');
}

/** The appliance child's CPU time so far (user + system, all threads, microseconds) and its audit group commits so far. */
async function serverCounters(appliance: Child): Promise<{ cpuUs: number; commits: number; events: number; seconds: number }> {
  appliance.send({ type: 'cpu' });
  const usage = await appliance.next('cpu');
  return { cpuUs: (usage.user ?? NaN) + (usage.system ?? NaN), commits: usage.audit?.commits ?? NaN, events: usage.audit?.events ?? NaN, seconds: usage.audit?.seconds ?? NaN };
}

/** Runs a cell on the real server's lanes, with the server's CPU time per response and the cell's audit group commits. */
export async function measuredCell(appliance: Child, lanes: readonly Lane[], spec: CellSpec): Promise<{ real: CellResult; serverUsPerOp: number; commitMs: number; eventsPerCommit: number }> {
  const before = await serverCounters(appliance);
  const real = await runCell(lanes, spec);
  const after = await serverCounters(appliance);
  const commits = after.commits - before.commits;
  return { real, serverUsPerOp: (after.cpuUs - before.cpuUs) / real.responses, commitMs: ((after.seconds - before.seconds) * 1000) / commits, eventsPerCommit: (after.events - before.events) / commits };
}

/** One closed or pipelined cell on the real server and on its echo, as a row. */
export async function measureRow(appliance: Child, op: string, source: RequestSource, lanes: { real: Lane[]; echo: Lane[] }, connections: number, depth: number, opts: CellBounds): Promise<Row> {
  const spec: CellSpec = { ...source, connections, depth, warmupMs: opts.warmupMs, maxMs: opts.maxMs, maxRequests: opts.maxRequests };
  const { real, ...server } = await measuredCell(appliance, lanes.real, spec);
  const echoResult = await runCell(lanes.echo, spec);
  return { op, connections, mode: depth === 1 ? 'closed' : 'pipelined', real, echo: echoResult, ratio: real.opsPerSecond / echoResult.opsPerSecond, ...server };
}

