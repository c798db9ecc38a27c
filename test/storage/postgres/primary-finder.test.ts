/**
 * The primary finder against fake Patroni REST servers (real HTTP servers on
 * 127.0.0.1 that answer `GET /primary` as a test scripts them) and fake SQL
 * sessions (answering `SHOW transaction_read_only`): it takes only a node
 * that both holds the leader key and is writable, prefers the newest
 * timeline, gets past dead and hung nodes within its REST deadline, retries
 * through a promotion, and gives up with CLUSTER_NO_PRIMARY after its bound
 * (rounds, or time on a manual clock) naming what each node said.
 * The real cluster is test/integration/cluster-failover.test.ts.
 */
import { createServer, Server } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { ManualClock } from '../../../common/clock';
import { RestAnswer } from '../../../storage/postgres/patroni-rest';
import { ClusterNodeAddress, PrimaryFinder, SqlSession } from '../../../storage/postgres/primary-finder';
import { ManualTimers } from '../../support/manual-timers';

type Script = () => { status: number; body: Record<string, unknown> } | 'hang';

interface FakeNode {
  readonly address: ClusterNodeAddress;
  script: Script;
  requests: number;
}

const servers: Server[] = [];
const sockets = new Set<Socket>();

async function fakePatroni(name: string, script: Script): Promise<FakeNode> {
  const node: FakeNode = { address: { name, rest: { host: '127.0.0.1', port: 0 }, postgres: { host: '127.0.0.1', port: 1 } }, script, requests: 0 };
  const server = createServer((req, res) => {
    node.requests++;
    const answer = node.script();
    if (answer === 'hang') return; // accepted, never answered
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const port = (server.address() as AddressInfo).port;
  return Object.assign(node, { address: { ...node.address, rest: { host: '127.0.0.1', port } } });
}

const primary = (timeline = 1) => () => ({ status: 200, body: { role: 'master', state: 'running', timeline } });
const replica = () => () => ({ status: 503, body: { role: 'replica', state: 'running', timeline: 1 } });

/** Fake sessions: each node's `SHOW transaction_read_only` answer, in turn per connect; records connects and closes. */
class FakeSql {
  readonly connects: string[] = [];
  readonly closed: string[] = [];
  constructor(private readonly readOnly: Record<string, string[]>) {}

  connect = async (node: ClusterNodeAddress): Promise<SqlSession & { node: string }> => {
    this.connects.push(node.name);
    const answers = this.readOnly[node.name];
    if (answers === undefined || answers.length === 0) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    const value = answers.length > 1 ? answers.shift() : answers[0];
    return {
      node: node.name,
      query: async () => ({ rows: [{ transaction_read_only: value }] }),
      end: async () => void this.closed.push(node.name),
    };
  };
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('PrimaryFinder over fake Patroni REST servers', () => {
  it('connects only to the node whose /primary is 200, and keeps that session when it is writable', async () => {
    const nodes = [await fakePatroni('pg1', replica()), await fakePatroni('pg2', primary()), await fakePatroni('pg3', replica())];
    const sql = new FakeSql({ pg1: ['on'], pg2: ['off'], pg3: ['on'] });
    const found = await new PrimaryFinder({ nodes: nodes.map((n) => n.address), retryIntervalMs: 10 }, { connect: sql.connect }).find();
    expect([found.node.name, found.session.node, found.rounds]).toEqual(['pg2', 'pg2', 1]);
    expect(sql.connects).toEqual(['pg2']);
    expect(sql.closed).toEqual([]);
    expect(nodes.map((n) => n.requests)).toEqual([1, 1, 1]);
  });

  it('waits through a promotion: a leader still read-only is closed and asked again next round', async () => {
    const nodes = [await fakePatroni('pg1', replica()), await fakePatroni('pg2', primary(2))];
    const sql = new FakeSql({ pg2: ['on', 'on', 'off'] });
    const found = await new PrimaryFinder({ nodes: nodes.map((n) => n.address), retryIntervalMs: 10, maxRounds: 10 }, { connect: sql.connect }).find();
    expect([found.node.name, found.rounds]).toEqual(['pg2', 3]);
    expect(sql.closed).toEqual(['pg2', 'pg2']);
  });

  it('prefers the newest timeline when two nodes claim the key, and falls back when that one is not writable', async () => {
    const nodes = [await fakePatroni('old', primary(1)), await fakePatroni('new', primary(2))];
    const preferNew = await new PrimaryFinder({ nodes: nodes.map((n) => n.address) }, { connect: new FakeSql({ old: ['off'], new: ['off'] }).connect }).find();
    expect(preferNew.node.name).toBe('new');
    const sql = new FakeSql({ old: ['off'], new: ['on'] });
    const fallBack = await new PrimaryFinder({ nodes: nodes.map((n) => n.address) }, { connect: sql.connect }).find();
    expect(fallBack.node.name).toBe('old');
    expect(sql.connects).toEqual(['new', 'old']);
  });

  it('gets past a node whose REST port is closed and one that accepts but never answers, within the REST deadline', async () => {
    const dead = await fakePatroni('dead', replica());
    const deadAddress = dead.address;
    await new Promise((resolve) => servers.pop()?.close(resolve)); // its port now refuses
    const hung = await fakePatroni('hung', () => 'hang');
    const live = await fakePatroni('live', primary());
    const found = await new PrimaryFinder({ nodes: [deadAddress, hung.address, live.address], restTimeoutMs: 300 }, { connect: new FakeSql({ live: ['off'] }).connect }).find();
    expect(found.node.name).toBe('live');
    // Asked once and abandoned at the REST deadline (without one, this search would never end).
    expect(hung.requests).toBe(1);
  });

  it('tries the next round when the primary refuses connections', async () => {
    const nodes = [await fakePatroni('pg1', primary())];
    const sql = new FakeSql({ pg1: [] });
    let refusals = 0;
    const connect = async (node: ClusterNodeAddress) => {
      if (refusals++ < 2) return sql.connect(node); // refused twice (no answers scripted)
      return new FakeSql({ pg1: ['off'] }).connect(node);
    };
    const found = await new PrimaryFinder({ nodes: nodes.map((n) => n.address), retryIntervalMs: 10 }, { connect }).find();
    expect(found.rounds).toBe(3);
  });
});

describe('PrimaryFinder bounds (scripted probe, manual clock)', () => {
  const address = (name: string): ClusterNodeAddress => ({ name, rest: { host: '127.0.0.1', port: 1 }, postgres: { host: '127.0.0.1', port: 2 } });

  it('gives up with CLUSTER_NO_PRIMARY after maxRounds, saying what each node answered', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    let probes = 0;
    const probe = async (): Promise<RestAnswer> => {
      probes++;
      return { status: 503, body: { role: 'replica' } };
    };
    const finder = new PrimaryFinder({ nodes: [address('pg1'), address('pg2')], maxRounds: 4, retryIntervalMs: 100, deadlineMs: 1_000_000 }, { connect: new FakeSql({}).connect, probe, clock, timers });
    let error: unknown;
    const search = finder.find().catch((err: unknown) => (error = err));
    for (let i = 0; i < 10 && error === undefined; i++) await timers.advance(100);
    await search;
    expect((error as { code?: string }).code).toBe('CLUSTER_NO_PRIMARY');
    expect(probes).toBe(8);
    expect((error as Error).message).toContain('pg1: REST 503 (replica)');
  });

  it('gives up once the deadline would pass, whatever maxRounds says', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const probe = async (): Promise<RestAnswer> => ({ status: 0, error: 'ECONNREFUSED' });
    const finder = new PrimaryFinder({ nodes: [address('pg1')], maxRounds: 1_000, retryIntervalMs: 250, deadlineMs: 1_000 }, { connect: new FakeSql({}).connect, probe, clock, timers });
    let error: unknown;
    const search = finder.find().catch((err: unknown) => (error = err));
    for (let i = 0; i < 20 && error === undefined; i++) await timers.advance(250);
    await search;
    expect((error as { code?: string }).code).toBe('CLUSTER_NO_PRIMARY');
    expect((error as { details: { rounds: number } }).details.rounds).toBe(5);
    expect((error as Error).message).toContain('pg1: REST unreachable (ECONNREFUSED)');
  });

  it('refuses an empty node list', () => {
    expect(() => new PrimaryFinder({ nodes: [] }, { connect: new FakeSql({}).connect })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
