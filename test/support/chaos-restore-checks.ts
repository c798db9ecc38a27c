/**
 * The chaos test's checks of restores (the `restore` scenario of
 * chaos-child.ts), run by checkAfterKill (chaos-checks.ts) after every kill:
 *
 *   - the next start finishes or rolls back what a kill left: the check
 *     runs finishPendingRestore on the lane's folder, as openAppliance does
 *     before anything opens the file; it must never be `abandoned` (the
 *     intent names a staged file only once it is whole and fsynced), and
 *     no intent and no staged file (`keychain.db.restore-*`) may be left;
 *   - exactly one whole keychain: the file the next start opens passes the
 *     usual checks (integrity, trail, unseal with its trust state, MACs);
 *     when it is a restored one, its trail holds the same record at the
 *     backup's head as the keychain it replaced (one history, cut at the
 *     backup), and the `backup-restored` event it carries names the replaced
 *     head, which the kept file holds;
 *   - the replaced keychain is kept whole: `keychain.db.pre-restore-*` named
 *     by every completed restore's event is there (quick_check ok, its trail
 *     chained from the backup's head to the replaced head), and the folder
 *     holds no other `pre-restore` file;
 *   - no trail the next start serves holds a `backup-restored` event of
 *     stage `staged` (that one goes into the keychain being replaced, after
 *     the intent: the next start always swaps it out).
 *
 * Going back in time on purpose: what the replaced keychain recorded after
 * the backup's head is legitimately gone from the restored one. The check
 * reads those events from the kept file (verified as a chain from the
 * backup's head) into a `Rewound` account: an acknowledged operation found
 * neither in the current trail nor there fails as before. The child restores
 * only the backup it made in the same round, so every backup head is at or
 * after the head the previous check verified: nothing the ledger learned
 * before is rewound, and the check says so if that ever changes.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { finishPendingRestore, readRestoreIntent } from '../../domain/backup/restore-swap';
import { AuditStore } from '../../storage/audit-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { ChaosLane } from './chaos-fixture';
import { TrailMark, verifyTrailSince } from './chaos-trail';

/** A completed restore, as its `backup-restored` event in the restored trail says. */
export interface RestoreSeen {
  /** Seq of the event in the restored trail. */
  readonly seq: number;
  readonly name: string;
  readonly keptAs: string;
  readonly replacedKeychainId: string;
  readonly replacedHeadSeq: number;
  readonly replacedHeadHash: string;
  /** The backup's head: the restored trail is the replaced one up to here. */
  readonly restoredHeadSeq: number;
  readonly restoredHeadHash: string;
}

/** What the restores seen in one check took away on purpose: read from the kept files, after each backup's head. */
export interface Rewound {
  /** `operation key` of each successful operation event → the kept file that holds it. */
  readonly succeeded: Map<string, string>;
  /** Approval request id → its state in the kept file, for requests its trail names after the backup's head (made after the backup). */
  readonly approvals: Map<string, string>;
  /** Key names (namespace/name) the kept files hold. */
  readonly keys: Set<string>;
}

export const emptyRewound = (): Rewound => ({ succeeded: new Map(), approvals: new Map(), keys: new Set() });

/** A `backup-restored` event of the trail: the completed restore it records, or `staged` (the replaced trail's copy). */
export function restoreEventOf(record: { seq: number; event: string }): RestoreSeen | 'staged' | null {
  const event = JSON.parse(record.event) as { type: string; result: string; custom: Record<string, string> };
  if (event.type !== 'backup-restored' || event.result !== 'ok') return null;
  const c = event.custom;
  if (c.stage !== undefined) return 'staged';
  return {
    seq: record.seq,
    name: c.name,
    keptAs: c.keptAs,
    replacedKeychainId: c.replacedKeychainId,
    replacedHeadSeq: Number(c.replacedHeadSeq),
    replacedHeadHash: c.replacedHeadHash,
    restoredHeadSeq: Number(c.restoredHeadSeq),
    restoredHeadHash: c.restoredHeadHash,
  };
}

/**
 * As the next start: finishes a restore a kill left (or removes its staged
 * file). Fails on an abandoned intent, and on an intent or a staged file
 * left behind.
 */
export function finishAsNextStart(lane: ChaosLane, fail: (why: string) => never): 'none' | 'restored' {
  const hadIntent = readRestoreIntent(lane.keychainPath) !== null;
  const outcome = finishPendingRestore(lane.keychainPath);
  if (outcome.outcome === 'abandoned') fail(`the next start abandoned the restore intent a kill left (${outcome.reason}): the intent is written only once the staged file is whole`);
  const left = readdirSync(dirname(lane.keychainPath)).filter((n) => n.startsWith(`${basename(lane.keychainPath)}.restore-`) || n === 'restore-in-progress.json');
  if (left.length > 0) fail(`the next start left ${left.join(', ')} (intent ${hadIntent ? 'present' : 'absent'} before it)`);
  return outcome.outcome === 'restored' ? 'restored' : 'none';
}

/**
 * The checks of the completed restores `seen` in the new part of the trail
 * (in order), against the kept files they name; returns what they rewound.
 * `before`: the head the previous check verified. `keptSoFar`: every kept
 * file named by a restore the lane has seen (this check's are added).
 */
export function checkRestores(
  lane: ChaosLane,
  current: AuditStore,
  trust: { keychainId: string; publicKeyPem: string },
  before: TrailMark,
  seen: readonly RestoreSeen[],
  keptSoFar: Set<string>,
  retentionRemoves: Set<string>,
  fail: (why: string) => never,
): Rewound {
  const rewound = emptyRewound();
  for (const restore of seen) {
    const at = `restore of ${restore.name} (event ${restore.seq})`;
    if (restore.restoredHeadSeq < (before.head?.seq ?? 0)) {
      fail(`${at} went back to event ${restore.restoredHeadSeq}, before the head the previous check verified (${before.head?.seq}): the ledger does not model rewinding what it already learned`);
    }
    if (restore.replacedKeychainId !== trust.keychainId) fail(`${at} replaced keychain ${restore.replacedKeychainId}, not this lane's ${trust.keychainId}`);
    // A backup of an empty trail (a lane's first child) has head 0: the restored trail starts with the restore's event.
    const [cut] = restore.restoredHeadSeq === 0 ? [{ seq: 0, hash: Buffer.alloc(0) }] : current.readAuditRecords(restore.restoredHeadSeq, 1);
    if (cut?.seq !== restore.restoredHeadSeq || cut.hash.toString('hex') !== restore.restoredHeadHash) fail(`${at}: the restored trail does not hold the backup's head (event ${restore.restoredHeadSeq}) its event names`);
    if (dirname(restore.keptAs) !== dirname(lane.keychainPath) || !existsSync(restore.keptAs)) fail(`${at}: the replaced keychain is not kept as ${restore.keptAs}`);
    keptSoFar.add(basename(restore.keptAs));
    readKept(lane, restore, trust, rewound, retentionRemoves, (why) => fail(`${at}: kept keychain ${basename(restore.keptAs)}: ${why}`));
  }
  const kept = readdirSync(dirname(lane.keychainPath)).filter((n) => n.startsWith(`${basename(lane.keychainPath)}.pre-restore-`));
  const unnamed = kept.filter((n) => !keptSoFar.has(n));
  if (unnamed.length > 0) fail(`${unnamed.join(', ')} in the data folder: no completed restore names it`);
  return rewound;
}

/**
 * The kept (replaced) keychain, read from a copy (opening it in place would
 * add -wal and -shm files beside it): whole, its trail chained from the
 * backup's head to the replaced head and beyond (the `staged` event); what
 * it recorded after the backup's head goes into `rewound`.
 */
function readKept(lane: ChaosLane, restore: RestoreSeen, trust: { keychainId: string; publicKeyPem: string }, rewound: Rewound, retentionRemoves: Set<string>, fail: (why: string) => never): void {
  const scratch = mkdtempSync(join(lane.tmpDir, 'kept-'));
  let approvals: Array<{ id: string; state: string }> = [];
  // The events after the backup's head, as text: a request they name was made after the backup.
  const after: string[] = [];
  const copy = join(scratch, 'kept.db');
  try {
    copyFileSync(restore.keptAs, copy);
    const raw = new Database(copy, { readonly: true });
    try {
      const verdict = raw.pragma('quick_check', { simple: true });
      if (verdict !== 'ok') fail(`quick_check: ${String(verdict)}`);
      const keychainId = (raw.prepare('SELECT keychain_id FROM keychain_meta WHERE id = 1').pluck().get() as string | undefined) ?? '';
      if (keychainId !== restore.replacedKeychainId) fail(`its keychain id ${keychainId} is not the replaced one (${restore.replacedKeychainId})`);
      approvals = raw.prepare('SELECT id, state FROM approval_requests').all() as Array<{ id: string; state: string }>;
      for (const name of raw.prepare(`SELECT namespace || '/' || name FROM keys`).pluck().all() as string[]) rewound.keys.add(name);
    } finally {
      raw.close();
    }
    const store = openSqliteStore(copy, { readonly: true });
    try {
      const head = restore.restoredHeadSeq === 0 ? null : { seq: restore.restoredHeadSeq, hash: Buffer.from(restore.restoredHeadHash, 'hex') };
      const from: TrailMark = { head, lastCheckpointSeq: restore.restoredHeadSeq, checkpoints: 0, firstServerStart: 0 };
      const step = verifyTrailSince(store.audit, trust, from, (record) => {
        after.push(record.event);
        const event = JSON.parse(record.event) as { type: string; operation: string | null; key: string | null; result: string; custom: Record<string, string> };
        if (event.type === 'operation' && event.result === 'ok' && event.key) rewound.succeeded.set(`${event.operation} ${event.key}`, basename(restore.keptAs));
        // Backups its retention removed are gone from the folder whichever keychain is current.
        if (event.type === 'intent' && event.custom.retention !== undefined) for (const name of event.custom.remove.split(',')) retentionRemoves.add(name);
      });
      if (!step.ok) fail(`its trail does not extend the backup's head: ${step.reason} (seq ${step.firstBadSeq})`);
      const [replaced] = store.audit.readAuditRecords(restore.replacedHeadSeq, 1);
      if (replaced?.seq !== restore.replacedHeadSeq || replaced.hash.toString('hex') !== restore.replacedHeadHash) fail(`it does not hold the replaced head (event ${restore.replacedHeadSeq}) the restore's event names`);
      const text = after.join('\n');
      for (const row of approvals) if (text.includes(row.id)) rewound.approvals.set(row.id, row.state);
    } finally {
      store.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
