/**
 * Keychain benchmark: in-process Create and Get rates on a real SQLite file
 * (unsealed through a real SoftHSM2 token), each beside the bare AES-256-GCM
 * seal / open rate of node:crypto measured in the same run. The ratio is what
 * the layers above the cipher cost (SQLite, AAD, views, ids). Run after
 * `bash scripts/setup.sh`:
 *
 *   node dist/scripts/bench-keychain.js [--keys 10000] [--gets 50000]
 *
 * Every loop is bounded in count and in time.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../common/clock';
import { randomIds } from '../domain/ids';
import { Keychain } from '../domain/keychain';
import { initializeKeychain } from '../domain/keychain-key';
import { openPkcs11Hsm } from '../hsm/pkcs11-hsm';
import { createSoftHsmToken, findSoftHsmModule } from '../hsm/softhsm-token';
import { openSqliteStore } from '../storage/sqlite-store';
import { WorkerAuditAppender } from '../storage/audit-worker/worker-appender';
import { AuditWriter } from '../domain/audit/audit-writer';
import { AuditEvent } from '../domain/audit/audit-event';

/** No phase runs longer than this, whatever the counts asked for. */
const PHASE_TIME_LIMIT_MS = 60_000;

interface Phase {
  name: string;
  ops: number;
  seconds: number;
  p50us: number;
  p99us: number;
}

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

function measure(name: string, count: number, op: (i: number) => void): Phase {
  const samples = new Float64Array(count);
  const start = process.hrtime.bigint();
  const deadline = Date.now() + PHASE_TIME_LIMIT_MS;
  let done = 0;
  for (; done < count && (done % 256 !== 0 || Date.now() < deadline); done++) {
    const t0 = process.hrtime.bigint();
    op(done);
    samples[done] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const sorted = Array.from(samples.subarray(0, done)).sort((a, b) => a - b);
  return { name, ops: done / seconds, seconds, p50us: sorted[Math.floor(done * 0.5)], p99us: sorted[Math.floor(done * 0.99)] };
}

function row(phase: Phase, ceiling?: Phase): string {
  const ratio = ceiling ? `  ratio ${(phase.ops / ceiling.ops).toFixed(3)} of ${ceiling.name}` : '';
  return `${phase.name.padEnd(34)} ${phase.ops.toFixed(0).padStart(9)} ops/s  p50 ${phase.p50us.toFixed(1).padStart(7)} µs  p99 ${phase.p99us.toFixed(1).padStart(7)} µs${ratio}`;
}

async function main(): Promise<void> {
  const keys = arg('keys', 10_000);
  const gets = arg('gets', 50_000);
  const modulePath = findSoftHsmModule();
  if (!modulePath) throw new Error('SoftHSM2 is not installed: run bash scripts/setup.sh');
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-bench-'));
  try {
    const token = createSoftHsmToken({ dir: join(dir, 'hsm'), label: 'bench', userPin: '1234', soPin: '5678' });
    process.env.SOFTHSM2_CONF = token.softhsmConf;
    const hsm = await openPkcs11Hsm({ modulePath, tokenLabel: 'bench', pin: Buffer.from('1234') });
    const store = openSqliteStore(join(dir, 'keychain.db'));
    await initializeKeychain(store, hsm, systemClock, randomIds);
    const keychain = new Keychain({ store, clock: systemClock });
    await keychain.unseal(hsm);
    await hsm.close();

    // Ceilings: the bare cipher work one create (seal) and one get (open) need.
    const key = randomBytes(32);
    const aad = randomBytes(120);
    const material = randomBytes(32);
    const seal = (): Buffer => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(aad);
      return Buffer.concat([iv, c.update(material), c.final(), c.getAuthTag()]);
    };
    const sealed = seal();
    const open = (): void => {
      const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      d.update(sealed.subarray(12, sealed.length - 16)).fill(0);
      d.final();
    };
    const bareSeal = measure('node:crypto AES-256-GCM seal', Math.max(keys, 20_000), seal);
    const create = measure(`keychain create (${keys} keys)`, keys, (i) => keychain.createKey({ fullName: `bench/k-${i}`, algorithm: 'AES-256' }));
    // What freshness costs: the full check (unseal, each audit checkpoint) over every row, and the
    // same creates with the trust hooks off (no journal fold), measured after the check (it would then fail).
    const check = measure(`trust check (${keys} keys)`, 5, () => keychain.checkTrust());
    store.trust?.setWriteHooks(null);
    const unhooked = measure(`create, trust hooks off (${keys})`, keys, (i) => keychain.createKey({ fullName: `bench/u-${i}`, algorithm: 'AES-256' }));
    const bareOpen = measure('node:crypto AES-256-GCM open', gets, open);
    const created = Math.round(create.ops * create.seconds);
    const get = measure(`keychain get (over ${created} keys)`, gets, () => {
      const n = Math.floor(Math.random() * created);
      keychain.getKey({ fullName: `bench/k-${n}` }).material.fill(0);
    });

    // The audit writer on its own: group commit (one fsync per batch) against one fsync per event.
    const writer = new AuditWriter(store.audit);
    const event = (i: number): AuditEvent => ({
      time: new Date().toISOString(), eventId: `e${i}`, type: 'operation', identity: { name: 'bench', role: 'app', fingerprint256: 'f', subject: 'CN=bench' },
      endUser: 'u', purpose: 'p', source: '127.0.0.1', operation: 'Get', key: 'bench/k', instance: 'i', result: 'ok', requestId: i, custom: {},
    });
    const groupStart = process.hrtime.bigint();
    let recorded = 0;
    for (let round = 0; round < 40; round++) {
      await Promise.all(Array.from({ length: 1000 }, () => writer.record(event(recorded++))));
    }
    const groupRate = recorded / (Number(process.hrtime.bigint() - groupStart) / 1e9);
    const singleStart = process.hrtime.bigint();
    let single = 0;
    for (; single < 300; single++) await writer.record(event(recorded + single));
    const singleRate = single / (Number(process.hrtime.bigint() - singleStart) / 1e9);
    // The server's way: the same group commits on the audit worker thread's own connection.
    const appender = new WorkerAuditAppender({ keychainPath: join(dir, 'keychain.db') });
    const workerWriter = new AuditWriter(store.audit, undefined, undefined, (events) => appender.append(events));
    const workerStart = process.hrtime.bigint();
    let viaWorker = 0;
    for (let round = 0; round < 40; round++) {
      await Promise.all(Array.from({ length: 1000 }, () => workerWriter.record(event(recorded + single + viaWorker++))));
    }
    const workerRate = viaWorker / (Number(process.hrtime.bigint() - workerStart) / 1e9);
    await appender.close();

    console.log(`Strongroom keychain benchmark — node ${process.version}, SQLite WAL synchronous=FULL on ${tmpdir()}`);
    console.log(row(bareSeal));
    console.log(row(create, bareSeal));
    console.log(row(unhooked, bareSeal));
    console.log(`${'trust: per write (create p50)'.padEnd(34)} ${(create.p50us - unhooked.p50us).toFixed(1).padStart(9)} µs  (hooks on ${create.p50us.toFixed(1)} µs, off ${unhooked.p50us.toFixed(1)} µs)`);
    console.log(`${check.name.padEnd(34)} ${(check.p50us / 1000).toFixed(1).padStart(9)} ms per full check (at unseal and each audit checkpoint)`);
    console.log(row(bareOpen));
    console.log(row(get, bareOpen));
    console.log(`${'audit: one event per commit'.padEnd(34)} ${singleRate.toFixed(0).padStart(9)} events/s`);
    console.log(`${'audit: group commit (1000/turn)'.padEnd(34)} ${groupRate.toFixed(0).padStart(9)} events/s  ratio ${(groupRate / singleRate).toFixed(1)}x one per commit`);
    console.log(`${'audit: group commit, worker thread'.padEnd(34)} ${workerRate.toFixed(0).padStart(9)} events/s  ratio ${(workerRate / singleRate).toFixed(1)}x one per commit`);
    keychain.seal();
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
