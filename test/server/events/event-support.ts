/**
 * Helpers for the live event stream tests: open a stream with a fixture's
 * credentials, read until a condition holds (bounded in count and time),
 * and check that audit events chain.
 */
import { EventFilterOptions, EventStream, StreamEvent } from '../../../client/event-stream';
import { StrongroomClientError } from '../../../client/client-error';
import { verifyRecords } from '../../../domain/audit/audit-chain';
import { parseAuditLine } from '../../../protocol/audit-line';
import { Credentials, SOCKET_WAIT_MS, TestAppliance } from '../../support/appliance-fixture';

export function openStream(app: TestAppliance, credentials: Partial<Credentials> | null, filter: EventFilterOptions = {}): Promise<EventStream> {
  return EventStream.open({
    host: '127.0.0.1',
    port: app.server.eventsPort,
    ca: credentials?.caPem ?? app.officer.caPem,
    cert: credentials?.certificatePem,
    key: credentials?.privateKeyPem,
    servername: 'localhost',
    ...filter,
  });
}

/** The error code a stream open fails with (the test fails if it opens). */
export async function refusalCode(open: Promise<EventStream>): Promise<string> {
  try {
    const stream = await open;
    await stream.close();
  } catch (err) {
    return (err as StrongroomClientError).code;
  }
  throw new Error('the stream opened');
}

/** Reads events until `done(events)` holds, the stream ends, or SOCKET_WAIT_MS passes; returns what was read. */
export async function readUntil(stream: EventStream, done: (events: StreamEvent[]) => boolean): Promise<{ events: StreamEvent[]; end: StrongroomClientError | null | undefined }> {
  const events: StreamEvent[] = [];
  const deadline = Date.now() + SOCKET_WAIT_MS;
  while (!done(events) && Date.now() < deadline) {
    const read = await stream.read(Math.max(1, deadline - Date.now()));
    if (read.type === 'end') return { events, end: read.error };
    if (read.type === 'event') events.push(read.event);
  }
  return { events, end: undefined };
}

/** Reads whatever arrives within `ms` (to show that something does NOT arrive). */
export async function readFor(stream: EventStream, ms: number): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  const deadline = Date.now() + ms;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    const read = await stream.read(Math.max(1, deadline - Date.now()));
    if (read.type !== 'event') break;
    events.push(read.event);
  }
  return events;
}

export function auditEvents(events: StreamEvent[]): Array<StreamEvent & { seq: number; hash: string; prevHash: string; event: Record<string, unknown> }> {
  return events.filter((e) => e.kind === 'audit') as never;
}

/** Verifies that consecutive audit events form an unbroken hash chain (each hash recomputed). */
export function verifyStreamChain(events: StreamEvent[]): ReturnType<typeof verifyRecords> {
  const audits = auditEvents(events);
  if (audits.length === 0) return { ok: true, events: 0 };
  const records = audits.map((e, i) => {
    const { kind: _kind, ...line } = e;
    return parseAuditLine(JSON.stringify(line), i + 1);
  });
  return verifyRecords(records, { seq: records[0].seq - 1, hash: records[0].prevHash });
}

type StoredEvent = { type: string; result: string; identity: { fingerprint256: string } | null; custom: Record<string, string> };

/** Audit events after seq `after`, once `done` holds for them (the refusals are recorded fire-and-forget). */
export async function waitForAudit(app: TestAppliance, after: number, done: (events: StoredEvent[]) => boolean): Promise<StoredEvent[]> {
  let events: StoredEvent[] = [];
  for (let i = 0; i < 100; i++) {
    events = app.appliance.store.audit.readAuditRecords(after + 1, 10_000).map((r) => JSON.parse(r.event) as StoredEvent);
    if (done(events)) return events;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return events;
}
