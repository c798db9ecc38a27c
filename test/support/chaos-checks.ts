/**
 * The invariants the chaos test checks after every SIGKILL, whatever point
 * the kill landed on (none of them depends on when it landed):
 *   - the file: PRAGMA quick_check ok after every kill, PRAGMA
 *     integrity_check ok at every full check (every few kills and the last
 *     of each lane: what quick_check leaves out is only whether each index
 *     holds exactly its table's rows); no foreign key broken;
 *   - keys: versions 1..n without a gap or a double, the current one the
 *     newest; no key rolled twice at the test's one sweep instant;
 *   - the keychain unseals with the HSM (row MACs, trust state and the
 *     token's freshness anchor checked), no master key version it names is
 *     missing from the token;
 *   - the audit trail: after every kill, what was appended since the
 *     previous check extends the head that check verified (an anchor), and
 *     its new checkpoints verify (chaos-trail.ts); at every full check the
 *     appliance's own verifier (verifyTrail) checks the whole trail, anchored
 *     at that head; every change in the file is announced by the trail (a
 *     key's Create by the event it committed with, a destroyed instance's
 *     dual-controlled Destroy by its intent);
 *   - every acknowledged operation is there: created keys open (every key
 *     acknowledged since the lane began still resolves), an executed
 *     Destroy destroyed its instance (and a Destroy not executed did not),
 *     an acknowledged sweep left nothing due, an acknowledged backup is in
 *     the folder (or the trail says retention removed it), every backup in
 *     the folder verifies (signature, hash, chain, every instance opens);
 *   - an approved operation a kill interrupted (`executing`) was failed by
 *     the next start, never left running nor run again;
 *   - destroyed material leaves no trace: once the store is opened again
 *     (the next start), neither the file nor its WAL holds the sealed
 *     material of an instance destroyed since it was seen alive, and no
 *     backup made after the destruction holds it either;
 *   - restores (chaos-restore-checks.ts): the check first finishes what a
 *     kill left as the next start would (never abandoned, nothing left);
 *     a restored keychain is one history cut at its backup, the replaced
 *     one kept whole; what the replaced one acknowledged after the backup
 *     is legitimately gone, and accounted for in the kept file.
 * The ledger carries what one check hands the next (the trail's verified
 * head and checkpoints, what the trail said so far, the backups verified),
 * so each check reads only the new events and verifies only new backups.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '../../common/clock';
import { verifyTrail } from '../../domain/audit/audit-verify';
import { verifyBackup } from '../../domain/backup/backup-verify';
import { Keychain } from '../../domain/keychain';
import { masterKeyStatus } from '../../domain/master-key-rotation';
import { HsmPort } from '../../hsm/hsm-port';
import { openSqliteStore } from '../../storage/sqlite-store';
import { ChaosLane } from './chaos-fixture';
import { checkRestores, emptyRewound, finishAsNextStart, restoreEventOf, RestoreSeen, Rewound } from './chaos-restore-checks';
import { describeTrace, walSize, WalAtOpen } from './chaos-trace-evidence';
import { EMPTY_TRAIL_MARK, TrailMark, verifyTrailSince } from './chaos-trail';

export interface LaneLedger {
  /** Where the trail was verified up to (its head, its checkpoints): the next check verifies only what follows. */
  trail: TrailMark;
  /** Key names whose Create the trail records (the operation event a Create commits with, or an intent). */
  readonly createsRecorded: Set<string>;
  /** Key names whose Destroy intent the trail holds. */
  readonly destroyIntents: Set<string>;
  /** `operation key` of every successful operation event → its seq in the trail. */
  readonly succeeded: Map<string, number>;
  /** Every key whose Create was acknowledged, since the lane began → the seq of its Create event: each must still resolve. */
  readonly ackedCreates: Map<string, number>;
  /** Backups whose restore the trail records as completed. */
  readonly restored: Set<string>;
  /** `keychain.db.pre-restore-*` files named by the completed restores seen: the only ones the folder may hold. */
  readonly keptFiles: Set<string>;
  /** Backups a retention intent named for removal. */
  readonly retentionRemoves: Set<string>;
  /** Backups already verified (a backup file never changes). */
  readonly verifiedBackups: Set<string>;
  /** Approval requests found `executing` at the previous check. */
  executing: Set<string>;
  /** Sealed material of the approval scenario's instances, seen while they were alive (by instance name). */
  readonly alive: Map<string, Buffer>;
  /** Sealed material of instances destroyed since: no later backup, nor the file or its WAL, may hold it. */
  readonly destroyed: Buffer[];
}

export function newLedger(): LaneLedger {
  return { trail: EMPTY_TRAIL_MARK, createsRecorded: new Set(), destroyIntents: new Set(), succeeded: new Map(), ackedCreates: new Map(), restored: new Set(), keptFiles: new Set(), retentionRemoves: new Set(), verifiedBackups: new Set(), executing: new Set(), alive: new Map(), destroyed: [] };
}

/** What the killed child acknowledged, parsed from its `ack` lines. */
export interface ChildAcks {
  readonly created: string[];
  /** Approval request id → its state when acknowledged. */
  readonly approvals: Map<string, string>;
  readonly backups: string[];
  readonly sweeps: number;
  /** Backups whose restore the child saw completed (after its in-process restart). */
  readonly restored: string[];
  /** Whether the child got as far as `ready` (unsealed, start-up recovery run). */
  readonly ready: boolean;
}

export function parseAcks(lines: readonly string[]): ChildAcks {
  const acks = { created: [] as string[], approvals: new Map<string, string>(), backups: [] as string[], sweeps: 0, restored: [] as string[], ready: false };
  for (const line of lines) {
    const [word, kind, a, b] = line.split(' ');
    if (word === 'ready') acks.ready = true;
    if (word !== 'ack') continue;
    if (kind === 'create') acks.created.push(a);
    else if (kind === 'approval') acks.approvals.set(a, b);
    else if (kind === 'backup') acks.backups.push(a);
    else if (kind === 'sweep') acks.sweeps++;
    else if (kind === 'restored') acks.restored.push(a);
  }
  return acks;
}

/**
 * File-level checks, on a raw connection that changes nothing (query_only):
 * no keychain, no MACs. Not a read-only one: a kill can leave the WAL index
 * needing a recovery, which needs write access (SQLITE_READONLY_RECOVERY;
 * seen once in a chaos run), as the next start's open has.
 * `full`: PRAGMA integrity_check; else quick_check (every page, every
 * record's format, b-tree structure and free list: all but whether each
 * index holds exactly its table's rows, which the full check adds).
 */
function checkFile(path: string, sweepAtMs: number, full: boolean, fail: (why: string) => never): Map<string, number> {
  const raw = new Database(path, { fileMustExist: true });
  try {
    raw.pragma('query_only = ON');
    const pragma = full ? 'integrity_check' : 'quick_check';
    const integrity = raw.pragma(pragma, { simple: true });
    if (integrity !== 'ok') fail(`${pragma}: ${String(integrity)}`);
    const broken = raw.pragma('foreign_key_check') as unknown[];
    if (broken.length > 0) fail(`foreign_key_check: ${JSON.stringify(broken.slice(0, 3))}`);
    const rows = raw
      .prepare(
        `SELECT k.namespace || '/' || k.name AS name, k.rollover_policy AS policy, c.version AS current, COUNT(i.id) AS n, MIN(i.version) AS lo, MAX(i.version) AS hi
         FROM keys k JOIN key_instances c ON c.id = k.current_instance_id JOIN key_instances i ON i.key_id = k.id GROUP BY k.id`,
      )
      .all() as Array<{ name: string; policy: string; current: number; n: number; lo: number; hi: number }>;
    const versions = new Map<string, number>();
    for (const r of rows) {
      // UNIQUE (key_id, version) rules out a double; n = hi with lo = 1 rules out a gap.
      if (r.lo !== 1 || r.hi !== r.n) fail(`key ${r.name} has versions ${r.lo}..${r.hi} in ${r.n} instances (skipped or doubled)`);
      if (r.current !== r.hi) fail(`key ${r.name}'s current version is ${r.current}, not its newest (${r.hi})`);
      // Every sweep runs at one instant (sweepAtMs): a rolling key is rolled there at most once.
      if (r.n > 2 || (r.n === 2 && r.policy !== 'auto')) fail(`key ${r.name} (${r.policy}) has ${r.n} instances: rolled more than once at ${new Date(sweepAtMs).toISOString()}`);
      versions.set(r.name, r.n);
    }
    return versions;
  } finally {
    raw.close();
  }
}

/** Reads one new event's meaning into the ledger; a completed restore's event goes to `restores`. */
function learn(ledger: LaneLedger, record: { seq: number; event: string }, restores: Array<RestoreSeen | 'staged'>): void {
  const event = JSON.parse(record.event) as { type: string; operation: string | null; key: string | null; result: string; custom: Record<string, string> };
  if ((event.type === 'intent' || (event.type === 'operation' && event.result === 'ok')) && event.operation === 'Create' && event.key) ledger.createsRecorded.add(event.key);
  if (event.type === 'intent' && event.operation === 'Destroy' && event.key) ledger.destroyIntents.add(event.key);
  if (event.type === 'intent' && event.custom.retention !== undefined) for (const name of event.custom.remove.split(',')) ledger.retentionRemoves.add(name);
  if (event.type === 'operation' && event.result === 'ok' && event.key) ledger.succeeded.set(`${event.operation} ${event.key}`, record.seq);
  const restore = restoreEventOf(record);
  if (restore !== null) restores.push(restore);
}

/** What checkAfterKill does beyond the per-kill checks, and where it adds up its time. */
export interface CheckOptions {
  /**
   * The whole file and trail too: PRAGMA integrity_check instead of
   * quick_check, and verifyTrail over the whole trail (anchored at the head
   * just verified) besides the check of its new part.
   */
  readonly full: boolean;
  /** Milliseconds spent per phase, added up over the run (for the test's summary). */
  readonly phases: Record<string, number>;
}

/** What one check saw of restores (for the test's summary). */
export interface CheckSummary {
  /** A kill had left a restore's intent, and the check (as the next start) finished the swap. */
  readonly restoreFinishedByNextStart: boolean;
  /** Completed restores in the part of the trail this check read. */
  readonly restoresSeen: number;
}

/**
 * All the checks of one lane after a kill (see the file comment). `hsm` is
 * the parent's port on the lane's token; `context` names the seed, lane and
 * cycle in every failure, so the run can be replayed.
 */
export async function checkAfterKill(lane: ChaosLane, hsm: HsmPort, ledger: LaneLedger, acks: ChildAcks, sweepAtMs: number, context: string, options: CheckOptions): Promise<CheckSummary> {
  const { full, phases } = options;
  const fail = (why: string): never => {
    throw new Error(`${context}: ${why}`);
  };
  let t = Date.now();
  const lap = (name: string): void => {
    const now = Date.now();
    phases[name] = (phases[name] ?? 0) + now - t;
    t = now;
  };
  // As the next start's open does first: a restore a kill left is finished (or its staged file removed).
  const finished = finishAsNextStart(lane, fail) === 'restored';
  lap('restore finish');
  let restoresSeen = 0;
  const versions = checkFile(lane.keychainPath, sweepAtMs, full, fail);
  lap(full ? 'integrity_check' : 'quick_check');
  // Backups made since the last check came after every destruction the ledger knows of.
  const newBackups = await verifyNewBackups(lane, hsm, ledger, fail);
  lap('backups');
  // The next start's open: it scrubs whatever dropped material a kill left in the WAL.
  const walBefore = walSize(lane.keychainPath);
  const store = openSqliteStore(lane.keychainPath);
  const walAtOpen = { before: walBefore, after: walSize(lane.keychainPath) };
  const keychain = new Keychain({ store, clock: systemClock, timeZone: 'UTC' });
  lap('open');
  try {
    const status = await masterKeyStatus(store, hsm);
    if (status.missing.length > 0) fail(`master key versions missing from the token: ${status.missing.join(',')}`);
    lap('mkstatus');
    try {
      await keychain.unseal(hsm);
    } catch (err) {
      fail(`the keychain does not unseal: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}; ${tokenSeenAfresh(lane)}`);
    }
    lap('unseal');

    const trust = { keychainId: store.getMeta()!.keychainId, publicKeyPem: await hsm.signingPublicKey() };
    // The new part of the trail, from the head the previous check verified (an anchor); the ledger learns its events on the way.
    const restores: Array<RestoreSeen | 'staged'> = [];
    const before = ledger.trail;
    const step = verifyTrailSince(store.audit, trust, ledger.trail, (record) => learn(ledger, record, restores));
    if (!step.ok) throw new Error(`${context}: the audit trail does not verify: ${step.reason} (seq ${step.firstBadSeq})`);
    ledger.trail = step.mark;
    lap('trail since');
    if (restores.includes('staged')) fail('the trail the next start serves holds a `backup-restored` event of stage `staged`: a restore whose intent was written was not swapped in');
    const completed = restores.filter((r): r is RestoreSeen => r !== 'staged');
    restoresSeen = completed.length;
    for (const r of completed) ledger.restored.add(r.name);
    const rewound = completed.length === 0 && ledger.keptFiles.size === 0 ? emptyRewound() : checkRestores(lane, store.audit, trust, before, completed, ledger.keptFiles, ledger.retentionRemoves, fail);
    lap('restores');
    if (full) {
      const head = ledger.trail.head;
      const verdict = verifyTrail(store.audit, { ...trust, anchors: head === null ? [] : [head] });
      if (!verdict.ok) fail(`the whole audit trail does not verify: ${verdict.reason} (seq ${verdict.firstBadSeq})`);
      if (verdict.checkpoints !== ledger.trail.checkpoints) fail(`the whole trail holds ${verdict.checkpoints} checkpoints, the checks since the start counted ${ledger.trail.checkpoints}`);
      lap('whole trail');
    }

    // Nothing in the file that the trail does not announce: a Create commits with its event.
    for (const name of versions.keys()) if (!ledger.createsRecorded.has(name)) fail(`key ${name} exists but the trail holds no Create event for it`);
    // Acknowledged: answered to the client after its event was durable.
    for (const name of acks.created) {
      const seq = ledger.succeeded.get(`Create ${name}`);
      if (seq === undefined) {
        // Made after the backup a completed restore went back to: gone on purpose, and the replaced keychain (kept) holds it.
        const keptIn = rewound.succeeded.get(`Create ${name}`);
        if (keptIn === undefined) fail(`acknowledged Create of ${name} has no event in the trail (nor in a keychain a restore replaced)`);
        if (!rewound.keys.has(name)) fail(`acknowledged Create of ${name} is in the trail of ${keptIn}, a replaced keychain, but the key is not in it`);
        continue;
      }
      ledger.ackedCreates.set(name, seq);
    }
    // Every key acknowledged since the lane began (a restore goes back only to a backup made after the ones before were checked).
    for (const name of ledger.ackedCreates.keys()) {
      try {
        keychain.resolveName(name);
      } catch (err) {
        fail(`key ${name}, whose Create was acknowledged, does not resolve: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
      }
      // Opened when just acknowledged, and all of them at every full check.
      if (!full && !acks.created.includes(name)) continue;
      const material = keychain.getKey({ fullName: name }).material;
      if (material.length !== 32) fail(`acknowledged key ${name} does not open to 32 bytes`);
      material.fill(0);
    }
    for (const name of acks.restored) if (!ledger.restored.has(name)) fail(`the restore of ${name} was acknowledged but the trail records no completed restore of it`);
    lap('acks');
    if (acks.sweeps > 0 && keychain.dueKeys(sweepAtMs, 1).length > 0) fail('a sweep was acknowledged but keys are still due at its instant');
    lap('due');
    checkApprovals(lane.keychainPath, ledger, acks, rewound, fail);
    lap('approvals');
    checkBackupAcks(lane, ledger, acks, fail);
    checkNoTrace(lane.keychainPath, ledger, newBackups, walAtOpen, fail);
    lap('notrace');
  } finally {
    keychain.seal();
    store.close();
    lap('close');
  }
  return { restoreFinishedByNextStart: finished, restoresSeen };
}

/** Whether a fresh process (softhsm2-util) still sees the lane's token: tells a token broken on disk from the parent's module state. */
function tokenSeenAfresh(lane: ChaosLane): string {
  const shown = spawnSync('softhsm2-util', ['--show-slots'], { env: { ...process.env, SOFTHSM2_CONF: lane.env.SOFTHSM2_CONF }, encoding: 'utf8', timeout: 30_000 });
  const seen = shown.status === 0 && shown.stdout.includes(lane.label);
  return `softhsm2-util --show-slots in a fresh process ${seen ? 'still shows' : 'does NOT show'} token ${lane.label} (exit ${shown.status}${seen ? '' : `, ${shown.stderr.trim().slice(0, 200)}`})`;
}

/** Where a destroyed instance's sealed material could still sit: the file, its WAL (the store is open), the backups made since. */
function checkNoTrace(path: string, ledger: LaneLedger, newBackups: readonly string[], walAtOpen: WalAtOpen, fail: (why: string) => never): void {
  for (const backup of newBackups) {
    const bytes = readFileSync(backup);
    if (ledger.destroyed.some((blob) => bytes.includes(blob))) fail(`backup ${backup}, made after a destruction, holds the destroyed material`);
  }
  const raw = new Database(path, { readonly: true });
  let rows: Array<{ name: string; state: string; sealed: Buffer | null }>;
  try {
    rows = raw
      .prepare(`SELECT i.name AS name, i.state AS state, i.sealed_material AS sealed FROM key_instances i JOIN keys k ON k.id = i.key_id WHERE k.namespace LIKE 'approval-%'`)
      .all() as typeof rows;
  } finally {
    raw.close();
  }
  const files = [path, `${path}-wal`].filter(existsSync).map((f) => ({ f, bytes: readFileSync(f) }));
  for (const row of rows) {
    const seen = ledger.alive.get(row.name);
    if (row.sealed !== null) ledger.alive.set(row.name, row.sealed);
    if (!row.state.startsWith('Destroyed') || seen === undefined) continue;
    ledger.alive.delete(row.name);
    ledger.destroyed.push(seen);
    for (const { f, bytes } of files) if (bytes.includes(seen)) fail(`${f} still holds the sealed material of destroyed instance ${row.name}: ${describeTrace(path, seen, walAtOpen)}; restores completed in the lane so far: ${ledger.restored.size}`);
  }
}

/** Exactly once, at most once: a Destroy's approval and its effect commit together; `executing` does not outlive a start. */
function checkApprovals(path: string, ledger: LaneLedger, acks: ChildAcks, rewound: Rewound, fail: (why: string) => never): void {
  const raw = new Database(path, { readonly: true });
  try {
    const rows = raw
      .prepare(`SELECT a.id AS id, a.operation AS operation, a.state AS state, a.binding AS binding, i.state AS instanceState, i.sealed_material IS NULL AS dropped
                FROM approval_requests a LEFT JOIN key_instances i ON i.name = json_extract(a.binding, '$.instance')`)
      .all() as Array<{ id: string; operation: string; state: string; binding: string | null; instanceState: string | null; dropped: number }>;
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const [id, state] of acks.approvals) {
      // A request made after the backup a completed restore went back to (the restore's own) is in the replaced keychain only.
      const found = byId.get(id)?.state ?? rewound.approvals.get(id);
      if (found !== state) fail(`approval ${id} was acknowledged ${state} but is ${found ?? 'missing'}`);
    }
    const executing = new Set<string>();
    for (const r of rows) {
      if (r.operation === 'Destroy') {
        const destroyed = r.instanceState === 'Destroyed';
        if ((r.state === 'executed') !== destroyed) fail(`Destroy approval ${r.id} is ${r.state} but its instance is ${r.instanceState}`);
        if (destroyed && r.dropped !== 1) fail(`instance of Destroy ${r.id} is Destroyed but keeps its sealed material`);
        const key = (JSON.parse(r.binding as string) as { name: string }).name;
        if (destroyed && !ledger.destroyIntents.has(key)) fail(`key ${key} was destroyed but the trail holds no Destroy intent for it`);
      }
      if (r.state === 'executing') {
        // Both run outside the vote's transaction (the rotation in the background; the restore verifies the backup with the HSM first).
        if (r.operation !== 'MasterKeyRotate' && r.operation !== 'BackupRestore') fail(`${r.operation} approval ${r.id} is executing: only asynchronous operations can be`);
        if (ledger.executing.has(r.id) && acks.ready) fail(`approval ${r.id} is still executing after a start: it should have been failed`);
        executing.add(r.id);
      }
    }
    ledger.executing = executing;
  } finally {
    raw.close();
  }
}

function backupFiles(lane: ChaosLane): string[] {
  try {
    return readdirSync(lane.backupDir);
  } catch {
    return []; // No backup made yet.
  }
}

/** Every acknowledged backup is in the folder, unless a retention intent in the trail named it. */
function checkBackupAcks(lane: ChaosLane, ledger: LaneLedger, acks: ChildAcks, fail: (why: string) => never): void {
  const files = backupFiles(lane);
  for (const name of acks.backups) {
    if (!files.includes(name) && !ledger.retentionRemoves.has(name)) fail(`acknowledged backup ${name} is gone and no retention intent names it`);
  }
}

/** Every backup in the folder is whole and signed (each verified once: a backup never changes). Returns the paths of those new since the last check. */
async function verifyNewBackups(lane: ChaosLane, hsm: HsmPort, ledger: LaneLedger, fail: (why: string) => never): Promise<string[]> {
  const fresh: string[] = [];
  const files = backupFiles(lane);
  const signer = await hsm.signingPublicKey();
  for (const name of files) {
    // Dot-files are a killed backup's pieces, never taken for a backup.
    if (name.startsWith('.') || ledger.verifiedBackups.has(name)) continue;
    try {
      await verifyBackup(join(lane.backupDir, name), { trustedSigner: signer, signerSource: 'hsm', hsm, workDir: lane.backupDir });
    } catch (err) {
      fail(`backup ${name} does not verify: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
    }
    ledger.verifiedBackups.add(name);
    fresh.push(join(lane.backupDir, name));
  }
  return fresh;
}
