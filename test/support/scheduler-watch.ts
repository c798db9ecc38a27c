/**
 * What the appliance failover test (test/integration/cluster-appliance-failover.test.ts)
 * needs to check the scheduler across appliances: making `auto` keys, reading
 * the trail's scheduled rollovers and lease takeovers as they come (through
 * AuditSearch, so what an auditor sees), sampling the lease each node reports
 * (ClusterStatus), and judging the whole. Every read goes over the wire to a
 * real appliance; a read that meets the outage is tried again at the next poll.
 */
import { StrongroomClient } from '../../client/strongroom-client';

/** The trail's events the check looks at. */
export interface TrailEvent {
  readonly seq: number;
  readonly type: string;
  readonly key: string | null;
  readonly time: string;
  readonly custom: Record<string, string>;
}

/** Reads the whole trail from seq 1 on, page by page, keeping the events `keep` wants; `poll` reads what was appended since. */
export class TrailFollower {
  private fromSeq = 1;
  readonly events: TrailEvent[] = [];

  constructor(
    private readonly client: () => StrongroomClient,
    private readonly keep: (event: TrailEvent) => boolean,
  ) {}

  /** Reads to the trail's end as of now (bounded by `maxPages`); throws what the server answered when it could not. */
  async poll(maxPages = 1000): Promise<void> {
    for (let page = 0; page < maxPages; page++) {
      const found = await this.client().request<{ events: Array<{ seq: number; event: Omit<TrailEvent, 'seq'> }>; nextSeq: number | null }>('AuditSearch', { fromSeq: this.fromSeq, limit: 1000 });
      for (const { seq, event } of found.events) {
        const seen = { seq, type: event.type, key: event.key, time: event.time, custom: event.custom ?? {} };
        if (this.keep(seen)) this.events.push(seen);
        this.fromSeq = seq + 1;
      }
      if (found.nextSeq === null) return;
      this.fromSeq = found.nextSeq;
    }
  }
}

/** The lease as one node reported it. */
export interface LeaseSample {
  readonly node: string;
  readonly holder: string;
  readonly epoch: number;
}

/** Creates `count` keys `prefix-NNN` with rollover auto and `cryptoperiod`, `inFlight` at a time; answers their names. */
export async function createAutoKeys(client: StrongroomClient, prefix: string, count: number, cryptoperiod: string, inFlight: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++];
      await client.create({ name, algorithm: 'AES-256', rollover: 'auto', cryptoperiod });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return names;
}

/** The next midnight UTC strictly after `ms`. */
export function nextUtcMidnight(ms: number): number {
  const day = 86_400_000;
  return (Math.floor(ms / day) + 1) * day;
}

/**
 * What the trail and the keys say about the scheduler: per due key, its
 * versions and how many scheduled `rollover` events name it; the takeovers'
 * chain of epochs; the lease samples. Each list of problems is empty when
 * the scheduler rolled every due key exactly once and the lease moved
 * consistently.
 */
export interface SchedulerVerdict {
  readonly versionProblems: string[];
  readonly eventProblems: string[];
  readonly leaseProblems: string[];
}

export function judgeScheduler(input: {
  readonly dueKeys: readonly string[];
  readonly versions: ReadonlyMap<string, readonly number[]>;
  readonly rollovers: readonly TrailEvent[];
  readonly takeovers: readonly TrailEvent[];
  readonly samples: readonly LeaseSample[];
}): SchedulerVerdict {
  const versionProblems = input.dueKeys.filter((k) => (input.versions.get(k) ?? []).join(',') !== '1,2').map((k) => `${k}: versions ${(input.versions.get(k) ?? []).join(',') || 'none'}`);
  const named = new Map<string, number>();
  for (const e of input.rollovers) if (e.key !== null) named.set(e.key, (named.get(e.key) ?? 0) + 1);
  const eventProblems = input.dueKeys.filter((k) => named.get(k) !== 1).map((k) => `${k}: ${named.get(k) ?? 0} rollover events`);
  for (const key of named.keys()) if (!input.dueKeys.includes(key)) eventProblems.push(`${key}: a scheduled rollover of a key that was not due`);
  const leaseProblems: string[] = [];
  // One holder per epoch, whoever reported it; the takeovers' epochs follow each other by one, each from the holder of the epoch before.
  const holderOf = new Map<number, string>();
  const note = (epoch: number, holder: string, where: string): void => {
    const known = holderOf.get(epoch);
    if (known === undefined) holderOf.set(epoch, holder);
    else if (known !== holder) leaseProblems.push(`epoch ${epoch} held by ${known} and by ${holder} (${where})`);
  };
  for (const s of input.samples) note(s.epoch, s.holder, `reported by ${s.node}`);
  for (const t of input.takeovers) {
    const epoch = Number(t.custom.epoch);
    const previousEpoch = Number(t.custom.previousEpoch);
    if (!Number.isSafeInteger(epoch) || previousEpoch !== epoch - 1) leaseProblems.push(`takeover at seq ${t.seq}: epoch ${t.custom.epoch} after ${t.custom.previousEpoch}`);
    note(epoch, t.custom.holder, `takeover event seq ${t.seq}`);
    note(previousEpoch, t.custom.previousHolder, `takeover event seq ${t.seq}, as the previous holder`);
  }
  const epochs = input.takeovers.map((t) => Number(t.custom.epoch));
  if (new Set(epochs).size !== epochs.length) leaseProblems.push(`an epoch taken twice: ${epochs.join(',')}`);
  if (epochs.some((e, i) => i > 0 && e <= epochs[i - 1])) leaseProblems.push(`takeover epochs out of order in the trail: ${epochs.join(',')}`);
  // Every epoch after the first is a takeover the trail shows.
  for (const epoch of holderOf.keys()) if (epoch > 1 && !epochs.includes(epoch)) leaseProblems.push(`epoch ${epoch} seen (holder ${holderOf.get(epoch)}) with no takeover in the trail`);
  return { versionProblems, eventProblems, leaseProblems };
}
