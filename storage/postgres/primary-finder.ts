/**
 * Finds the writable PostgreSQL primary among the nodes of a Patroni cluster.
 * node-postgres cannot choose among several hosts by itself, and a host that
 * accepts a connection may be a standby: so the finder asks every node's
 * Patroni REST API (`GET /primary` is 200 only on the leader), connects to the
 * node that said yes, and believes it only once `SHOW transaction_read_only`
 * answers `off` on that very connection (Patroni takes the leader key a moment
 * before PostgreSQL finishes its promotion, and an old leader may still answer
 * 200 for up to a loop after it lost the key).
 *
 * During a failover no node is primary for a while (about Patroni's `ttl`):
 * the finder tries again every `retryIntervalMs`, bounded both in attempts and
 * in time, then gives up with CLUSTER_NO_PRIMARY, whose message says what each
 * node answered last. Clock and timers are injected.
 */
import { Clock, systemClock } from '../../common/clock';
import { StorageError } from '../../common/errors';
import { systemTimers, Timers } from '../../common/timers';
import { makePatroniProbe, RestAddress, RestAnswer, RestProbe } from './patroni-rest';

/** One node of the cluster: where its Patroni REST API and its PostgreSQL listen. */
export interface ClusterNodeAddress {
  readonly name: string;
  readonly rest: RestAddress;
  readonly postgres: { readonly host: string; readonly port: number };
}

/** The little the finder needs of a database connection (pg.Client has it). */
export interface SqlSession {
  query(sql: string): Promise<{ rows: ReadonlyArray<Record<string, unknown>> }>;
  end(): Promise<void>;
}

export interface PrimaryFinderSettings {
  readonly nodes: readonly ClusterNodeAddress[];
  /** Deadline of one REST probe. */
  readonly restTimeoutMs: number;
  /** Pause between two rounds when no node was a writable primary. */
  readonly retryIntervalMs: number;
  /** The whole search gives up after this long (cover Patroni's ttl plus a promotion). */
  readonly deadlineMs: number;
  /** …or after this many rounds, whichever comes first. */
  readonly maxRounds: number;
}

export const DEFAULT_FINDER_SETTINGS: Omit<PrimaryFinderSettings, 'nodes'> = {
  restTimeoutMs: 1_000,
  retryIntervalMs: 250,
  deadlineMs: 60_000,
  maxRounds: 400,
};

export interface PrimaryFinderDeps<S extends SqlSession> {
  /** Opens a session to the node's PostgreSQL (bounded by its own connect timeout). */
  readonly connect: (node: ClusterNodeAddress) => Promise<S>;
  readonly probe?: RestProbe;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

/** A session on the node that was the writable primary when it was found. */
export interface PrimarySession<S extends SqlSession> {
  readonly node: ClusterNodeAddress;
  readonly session: S;
  /** Rounds it took (1: the first look found it). */
  readonly rounds: number;
}

export class PrimaryFinder<S extends SqlSession> {
  private readonly settings: PrimaryFinderSettings;
  private readonly probe: RestProbe;
  private readonly clock: Clock;
  private readonly timers: Timers;

  constructor(settings: Partial<PrimaryFinderSettings> & Pick<PrimaryFinderSettings, 'nodes'>, private readonly deps: PrimaryFinderDeps<S>) {
    if (settings.nodes.length === 0) throw new StorageError('INVALID_ARGUMENT', 'the primary finder needs at least one cluster node address');
    this.settings = { ...DEFAULT_FINDER_SETTINGS, ...settings };
    this.timers = deps.timers ?? systemTimers;
    this.probe = deps.probe ?? makePatroniProbe(this.timers);
    this.clock = deps.clock ?? systemClock;
  }

  /** A session on the writable primary; throws CLUSTER_NO_PRIMARY once the rounds or the deadline run out. */
  async find(): Promise<PrimarySession<S>> {
    const { deadlineMs, maxRounds, retryIntervalMs } = this.settings;
    const started = this.clock.nowMs();
    let lastSeen: string[] = [];
    for (let round = 1; round <= maxRounds; round++) {
      const outcome = await this.oneRound();
      if ('session' in outcome) return { node: outcome.node, session: outcome.session, rounds: round };
      lastSeen = outcome.seen;
      const elapsed = this.clock.nowMs() - started;
      if (round === maxRounds || elapsed + retryIntervalMs > deadlineMs) {
        throw new StorageError(
          'CLUSTER_NO_PRIMARY',
          `no writable PostgreSQL primary among ${this.settings.nodes.length} nodes after ${round} rounds in ${elapsed} ms; last answers: ${lastSeen.join('; ')}. ` +
            'The cluster may be failing over or may have lost its quorum: try again, and check `patronictl list`.',
          { details: { rounds: round, elapsedMs: elapsed } },
        );
      }
      await this.pause(retryIntervalMs);
    }
    /* istanbul ignore next: the loop returns or throws at maxRounds */
    throw new StorageError('CLUSTER_NO_PRIMARY', 'no writable PostgreSQL primary (no rounds)');
  }

  /** Asks every node at once, then tries the ones that said "primary", newest timeline first. */
  private async oneRound(): Promise<{ node: ClusterNodeAddress; session: S } | { seen: string[] }> {
    const { nodes, restTimeoutMs } = this.settings;
    const answers = await Promise.all(nodes.map((node) => this.probe(node.rest, '/primary', restTimeoutMs)));
    const seen = nodes.map((node, i) => `${node.name}: ${describeAnswer(answers[i])}`);
    const candidates = nodes
      .map((node, i) => ({ node, answer: answers[i], order: i }))
      .filter((c) => c.answer.status === 200)
      .sort((a, b) => timeline(b.answer) - timeline(a.answer) || a.order - b.order);
    for (const { node, order } of candidates) {
      const verdict = await this.confirmWritable(node);
      if ('session' in verdict) return { node, session: verdict.session };
      seen[order] = `${node.name}: REST 200 but ${verdict.why}`;
    }
    return { seen };
  }

  /** Connects and asks PostgreSQL itself; closes the session unless it is writable. */
  private async confirmWritable(node: ClusterNodeAddress): Promise<{ session: S } | { why: string }> {
    let session: S;
    try {
      session = await this.deps.connect(node);
    } catch (err) {
      return { why: `connect failed (${errorText(err)})` };
    }
    try {
      const result = await session.query('SHOW transaction_read_only');
      const value = result.rows[0]?.transaction_read_only;
      if (value === 'off') return { session };
      await closeQuietly(session);
      return { why: `transaction_read_only = ${String(value)}` };
    } catch (err) {
      await closeQuietly(session);
      return { why: `SHOW transaction_read_only failed (${errorText(err)})` };
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.after(ms, resolve));
  }
}

function timeline(answer: RestAnswer): number {
  const value = answer.body?.timeline;
  return typeof value === 'number' ? value : 0;
}

function describeAnswer(answer: RestAnswer): string {
  if (answer.status === 0) return `REST unreachable (${answer.error ?? 'no answer'})`;
  const role = answer.body?.role;
  return `REST ${answer.status}${typeof role === 'string' ? ` (${role})` : ''}`;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return (err as NodeJS.ErrnoException).code ?? err.message;
  return String(err);
}

async function closeQuietly(session: SqlSession): Promise<void> {
  try {
    await session.end();
  } catch {
    // The session is being thrown away: a failure to close it changes nothing.
  }
}
