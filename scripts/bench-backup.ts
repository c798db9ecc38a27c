/**
 * Backup benchmark: how long a real appliance (SoftHSM2 token, SQLite
 * keychain) takes to make a signed backup of N keys (one instance each) and
 * to verify it, every instance opened.
 *
 *   node dist/scripts/bench-backup.js [--keys 100000] [--json]
 *
 * `create` is what BackupCreate does on the server (server/compose/
 * backup-wiring.ts): the VACUUM INTO snapshot on a worker thread, the
 * trust-state check of the snapshot, the HSM signature and the assembly of
 * the file in backup_dir (the copy to an officer's --out is BackupRead
 * chunks on top: not timed here). `verify` is `strongroom backup verify`
 * with the HSM: header, signature, hash, counts, audit chain, trust state,
 * every instance opened. `upload` is what BackupUpload does with the file
 * sent back in 512 KiB chunks (writes, hash, the verification without the
 * HSM, the link into place; the TLS wire is not in it). `restore request` is what BackupRestore does
 * before its request is stored (the full verification); `restore` what the
 * approved request does (copy and hash the file, verify it again, check
 * every row's MAC, stage it, re-seal its trust state) plus the swap at the
 * next open and the unseal (domain/backup/backup-restorer.ts). The keys
 * are made in transactions of 5,000 before the clock starts. The temp folder
 * is removed at the end, on error and on Ctrl-C.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../common/clock';
import { silentLogger } from '../common/logger';
import { systemTimers } from '../common/timers';
import { verifyBackup } from '../domain/backup/backup-verify';
import { randomIds } from '../domain/ids';
import { backupService } from '../server/compose/backup-wiring';
import { openAppliance } from '../server/compose/open-appliance';
import { localOperator } from '../server/local/local-operator';
import { createBenchAppliance } from './bench-appliance';

const DEFAULT_KEYS = 100_000;
const MAX_KEYS = 1_000_000;
const CREATE_CHUNK = 5_000;
const UPLOAD_CHUNK_BYTES = 512 * 1024;

function parseArgs(argv: string[]): { keys: number; json: boolean } {
  let keys = DEFAULT_KEYS;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = true;
    else if (argv[i] === '--keys') keys = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (usage: bench-backup [--keys N] [--json])`);
  }
  if (!Number.isSafeInteger(keys) || keys < 1 || keys > MAX_KEYS) throw new Error(`--keys must be 1..${MAX_KEYS}`);
  return { keys, json };
}

async function main(): Promise<void> {
  const { keys, json } = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-bench-backup-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const log = (line: string): void => void (json ? undefined : process.stdout.write(`${line}\n`));
  try {
    let { appliance } = await createBenchAppliance(dir);
    try {
      const t0 = performance.now();
      for (let start = 0; start < keys; start += CREATE_CHUNK) {
        appliance.store.transaction(() => {
          for (let i = start; i < Math.min(keys, start + CREATE_CHUNK); i++) appliance.keychain.createKey({ fullName: `bench/k-${i}`, algorithm: 'AES-256' });
        });
      }
      log(`set-up: ${keys} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      let restoreStaged: () => void = () => undefined;
      const staged = new Promise<void>((resolve) => (restoreStaged = resolve));
      const backups = backupService(appliance, { clock: systemClock, timers: systemTimers, log: silentLogger, stamper: { clock: systemClock, newId: () => randomIds.newId() }, record: async () => undefined, onRestoreStaged: () => restoreStaged() });
      const t1 = performance.now();
      const made = await backups.create(localOperator());
      const createSeconds = (performance.now() - t1) / 1000;
      log(`create: ${createSeconds.toFixed(2)} s, ${(made.bytes / 1024 / 1024).toFixed(1)} MiB, ${made.manifest.counts.instances} instances`);
      const uploadSeconds = await timeUpload(backups, join(dir, 'data', 'backups', made.name), made.bytes, made.sha256);
      log(`upload: ${uploadSeconds.toFixed(2)} s (512 KiB chunks written and hashed, the file verified without the HSM, linked into place)`);
      const hsm = await appliance.hsm();
      const t2 = performance.now();
      const verdict = await verifyBackup(join(dir, 'data', 'backups', made.name), { trustedSigner: await hsm.signingPublicKey(), signerSource: 'hsm', hsm, workDir: join(dir, 'data', 'backups') });
      const verifySeconds = (performance.now() - t2) / 1000;
      if (!verdict.instances.checked || verdict.instances.opened !== keys) throw new Error(`verify opened ${JSON.stringify(verdict.instances)}, expected ${keys}`);
      log(`verify: ${verifySeconds.toFixed(2)} s (every instance opened, trust state checked)`);
      // Restore, as an approved request runs it (the dual-control gate is not what is measured): verified again, staged, re-sealed, then swapped at the next open and unsealed.
      const t3 = performance.now();
      const target = await backups.restore!.prepare({ name: made.name });
      const requestSeconds = (performance.now() - t3) / 1000;
      log(`restore request: ${requestSeconds.toFixed(2)} s (full verification before the request is stored)`);
      const t4 = performance.now();
      await backups.restore!.execute({ name: made.name, sha256: target.sha256 }, null, null);
      await staged;
      await appliance.close();
      appliance = openAppliance(appliance.config);
      if (appliance.restore?.outcome !== 'restored') throw new Error(`the restore was not put in place: ${JSON.stringify(appliance.restore)}`);
      await appliance.unseal();
      const restoreSeconds = (performance.now() - t4) / 1000;
      if (appliance.store.countKeys() !== keys) throw new Error(`the restored keychain holds ${appliance.store.countKeys()} keys, expected ${keys}`);
      log(`restore: ${restoreSeconds.toFixed(2)} s (copy, hash, verify again, per-row MACs, stage, re-seal, swap at open, unseal)`);
      if (json) process.stdout.write(`${JSON.stringify({ keys, bytes: made.bytes, createSeconds, uploadSeconds, verifySeconds, requestSeconds, restoreSeconds }, null, 2)}\n`);
    } finally {
      await appliance.close();
    }
  } finally {
    cleanup();
  }
}

/** BackupUpload's work for `path` sent back under another name, as the CLI sends it: seconds. */
async function timeUpload(backups: ReturnType<typeof backupService>, path: string, bytes: number, sha256: string): Promise<number> {
  const fd = openSync(path, 'r');
  const chunk = Buffer.alloc(UPLOAD_CHUNK_BYTES);
  try {
    const t0 = performance.now();
    for (let offset = 0; offset < bytes; ) {
      const read = readSync(fd, chunk, 0, Math.min(chunk.length, bytes - offset), offset);
      const last = offset + read === bytes;
      await backups.upload!(localOperator(), { name: 'bench-upload.srbk', offset, totalBytes: bytes, data: Buffer.from(chunk.subarray(0, read)), ...(last ? { sha256 } : {}) });
      offset += read;
    }
    return (performance.now() - t0) / 1000;
  } finally {
    closeSync(fd);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-backup failed: ${String(err)}\n`);
  process.exitCode = 1;
});
