/**
 * A backup made on one appliance opens on a second appliance whose token
 * holds the same master key, and is refused by a third whose token does not
 * (issue 14; docs/backup.md §6). Three real appliances, each in processes of
 * its own on its own SoftHSM2 token and data folder
 * (test/support/appliance-process.ts):
 *
 * - A and B: one AES-256 master key written into both tokens by
 *   scripts/share-master-key.sh (pkcs11-tool, the key file wiped after), and
 *   `hsm_imported_master_keys = 1` in both appliance.conf files; each its
 *   own `strongroom init` (own keychain, own signing key).
 * - C: `strongroom init` on a fresh token, which generates its own master key.
 * - D: a configured token with no master key at all (no keychain).
 *
 * A serves; its officer makes keys and `backup create`s over the wire.
 * `backup verify` then runs against each data folder, trusting A's signing
 * key from a copy (`--public-key`, what `audit public-key` printed). Last,
 * `backup restore` (dual-controlled, `--signer-key`) over the wire: B
 * restores it and, restarted by itself, serves A's keychain; C refuses the request.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { assertCliBuilt, cli } from '../support/cli-runner';
import {
  ApplianceToken, configureAppliance, initAppliances, local, makeApplianceToken, serveAppliance, shareMasterKey, stopAll,
} from '../support/appliance-process';

/** Master-key-mismatch family exit code (common/error-codes.ts: HSM errors exit 6). */
const EXIT_HSM = 6;
const EXIT_BACKUP = 7;
const EXIT_APPROVAL_REQUIRED = 12;
/** How long an approved restore may take to be staged and the server to restart onto it (seconds, for three instances). */
const RESTORE_MS = 45_000;

describe('moving the master key: a backup from appliance A on appliances B (same key), C and D (not)', () => {
  let root: string;
  let a: ApplianceToken;
  let b: ApplianceToken;
  let c: ApplianceToken;
  let d: ApplianceToken;
  let backupFile: string;
  let aPublicKey: string;
  let aSerial: string;
  /** Where the ceremony's key file was: it must be gone. */
  let keyFile: string;
  let made: { name: string; manifest: { keychainId: string; counts: { instances: number; sealedInstances: number } } };

  beforeAll(async () => {
    assertCliBuilt();
    root = mkdtempSync(join(tmpdir(), 'strongroom-mk-move-'));
    [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => makeApplianceToken(root, name));

    const shared = shareMasterKey([a, b]);
    expect(shared).toMatchObject({ status: 0 });
    keyFile = /the key file \((\S+)\) is wiped/.exec(shared.stdout)?.[1] ?? '(not named)';
    for (const token of [a, b]) configureAppliance(token, { hsm_imported_master_keys: '1' });
    configureAppliance(c);
    configureAppliance(d);
    const inits = await initAppliances([a, b, c]);
    for (const init of inits) expect(init.status).toBe(0);
    aSerial = inits[0].json.token.serialNumber;

    const publicKey = local(a, 'audit', 'public-key');
    expect(publicKey.status).toBe(0);
    aPublicKey = join(root, 'a-signing-key.pem');
    writeFileSync(aPublicKey, publicKey.json.publicKey);

    const server = await serveAppliance(a);
    try {
      for (const name of ['pay/ledger', 'pay/archive']) expect(server.remote(['key', 'create', name]).status).toBe(0);
      expect(server.remote(['key', 'rollover', 'pay/ledger']).status).toBe(0);
      backupFile = join(root, 'from-a.srbk');
      const created = server.remote(['backup', 'create', '--out', backupFile]);
      expect(created.status).toBe(0);
      made = created.json;
      // The other officers init made reach the server too (a restore's approvers, below).
      expect(server.remote(['status'], { officer: 'officer-2' }).status).toBe(0);
    } finally {
      await server.stop();
    }
  }, 180_000);

  afterAll(async () => {
    await stopAll();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('leaves no key file behind: the ceremony wiped it and its folder', () => {
    expect(keyFile).toMatch(/\/strongroom-master-key\.[^/]+\/master\.key$/);
    expect(existsSync(keyFile)).toBe(false);
    expect(existsSync(dirname(keyFile))).toBe(false);
  });

  it('B (same master key, its own keychain and signing key) verifies A\'s backup in full, every instance opened', () => {
    const verified = local(b, 'backup', 'verify', backupFile, '--public-key', aPublicKey);
    expect(verified.stderr).toBe('');
    expect(verified.status).toBe(0);
    expect(verified.json).toMatchObject({
      ok: true,
      signer: { source: 'file' },
      manifest: { keychainId: made.manifest.keychainId },
      instances: { checked: true, opened: 3 },
      trust: { checked: true },
    });
    expect(made.manifest.counts).toMatchObject({ instances: 3, sealedInstances: 3 });
    // B is another appliance: a keychain of its own, which the shared master key unseals.
    const status = local(b, 'status');
    expect(status.json).toMatchObject({ initialized: true, hsm: { checked: true, unseals: true } });
    expect(status.json.keychainId).not.toBe(made.manifest.keychainId);
  });

  it('B trusts A\'s signature only from the kept copy: with its own HSM key it is BACKUP_FOREIGN_SIGNER', () => {
    const refused = local(b, 'backup', 'verify', backupFile);
    expect(refused.status).toBe(EXIT_BACKUP);
    expect(refused.json.error.code).toBe('BACKUP_FOREIGN_SIGNER');
  });

  it('C (a master key of its own) refuses it: MASTER_KEY_MISMATCH, exit 6, naming the token the backup needs', () => {
    const refused = local(c, 'backup', 'verify', backupFile, '--public-key', aPublicKey);
    expect(refused.status).toBe(EXIT_HSM);
    expect(refused.json.error.code).toBe('MASTER_KEY_MISMATCH');
    expect(refused.json.error.details).toEqual({ expectedTokenSerial: aSerial, masterKeyVersion: 1 });
  });

  // HSM_MASTER_KEY_MISSING is kept for the keychain's own token lacking a
  // version (domain/keychain-key.ts unwrapKeychainKey): on ANOTHER token a
  // missing key is the same finding as a different one, the keychain
  // belongs to another token, so D gets C's answer.
  it('D (no master key at all in its token) refuses it the same way: MASTER_KEY_MISMATCH, exit 6', () => {
    const refused = local(d, 'backup', 'verify', backupFile, '--public-key', aPublicKey);
    expect(refused.status).toBe(EXIT_HSM);
    expect(refused.json.error.code).toBe('MASTER_KEY_MISMATCH');
    expect(refused.json.error.details).toEqual({ expectedTokenSerial: aSerial, masterKeyVersion: 1 });
  });

  it('B without hsm_imported_master_keys refuses the written key as not generated in its token (HSM_ERROR)', () => {
    const strict = join(root, 'b-strict.conf');
    const conf = readFileSync(join(b.dataDir, 'appliance.conf'), 'utf8').replace(/^hsm_imported_master_keys.*$/m, '');
    writeFileSync(strict, conf, { mode: 0o600 });
    const refused = cli(['--data', b.dataDir, '--config', strict, '--json', 'backup', 'verify', backupFile, '--public-key', aPublicKey]);
    expect(refused.status).toBe(EXIT_HSM);
    expect(refused.json.error).toMatchObject({ code: 'HSM_ERROR', details: { label: 'strongroom-master-v1', reason: 'not-always-sensitive' } });
  });

  // Last: it gives D a master key.
  it('never replaces a master key: a ceremony for v1 that includes A is refused (exit 4) before it writes to any token', () => {
    const refused = shareMasterKey([d, a]);
    expect(refused.status).toBe(4);
    expect(refused.stderr).toContain(a.label);
    // D, checked before A, was left without a v1: a ceremony for D alone now writes one.
    expect(shareMasterKey([d]).status).toBe(0);
  });

  describe('backup restore across appliances (docs/backup.md §5, §6)', () => {
    /** Puts A's backup into `token`'s backup_dir under the name A's server gave it. */
    function place(token: ApplianceToken): string {
      const dir = join(token.dataDir, 'backups');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      copyFileSync(backupFile, join(dir, made.name));
      return made.name;
    }

    it('B, dual-controlled, restores A\'s backup: after its restart it serves A\'s keychain, keys and officers, and its token opens it', async () => {
      const name = place(b);
      const server = await serveAppliance(b);
      try {
        const requested = server.remote(['backup', 'restore', name, '--signer-key', aPublicKey]);
        expect(requested.status).toBe(EXIT_APPROVAL_REQUIRED);
        expect(requested.json.error.code).toBe('APPROVAL_REQUIRED');
        const { requestId, digest } = requested.json.error.details as { requestId: string; digest: string };
        // Approvers are told the backup is signed by another appliance's key, and which (in text: "signed by ANOTHER appliance's key …").
        const shown = JSON.stringify(server.remote(['approvals', 'list']).json);
        expect(shown).toContain('"signedHere":false');
        expect(shown).toContain('"signerFingerprint":"');
        for (const officer of ['officer-2', 'officer-3'] as const) {
          const approved = server.remote(['approvals', 'approve', requestId, '--digest', digest], { officer });
          expect(approved.status).toBe(0);
        }
        // The quorum's answer comes first; the restore then runs on (verified
        // again, staged) and the server restarts itself onto it, same port.
        expect(await server.restarted(RESTORE_MS)).toBe(true);
        const asA = { pki: join(a.dataDir, 'pki') };
        const keys = server.remote(['key', 'list'], asA);
        expect(keys.status).toBe(0);
        expect(JSON.stringify(keys.json)).toContain('pay/ledger');
        expect(JSON.stringify(keys.json)).toContain('pay/archive');
        // The restored trail's checkpoints are A's; B trusts only its own key,
        // and accepts A's through the restore's signer handover (docs/backup.md §5).
        const verified = server.remote(['audit', 'verify'], asA);
        expect({ status: verified.status, verdict: verified.json }).toEqual({ status: 0, verdict: expect.objectContaining({ ok: true }) });
        expect(readdirSync(b.dataDir).some((f) => f.startsWith('keychain.db.pre-restore-'))).toBe(true);
        expect(existsSync(join(b.dataDir, 'restore-in-progress.json'))).toBe(false);
      } finally {
        await server.stop();
      }
      // B's token opens the restored keychain: every instance, locally.
      const status = local(b, 'status');
      expect(status.json).toMatchObject({ keychainId: made.manifest.keychainId, hsm: { checked: true, unseals: true } });
    });

    it('C refuses the restore request itself with MASTER_KEY_MISMATCH (exit 6): no request is stored', async () => {
      const name = place(c);
      const server = await serveAppliance(c);
      try {
        const refused = server.remote(['backup', 'restore', name, '--signer-key', aPublicKey]);
        expect(refused.status).toBe(EXIT_HSM);
        expect(refused.json.error.code).toBe('MASTER_KEY_MISMATCH');
        const pending = server.remote(['approvals', 'list']);
        expect(pending.status).toBe(0);
        expect(JSON.stringify(pending.json)).not.toContain('BackupRestore');
      } finally {
        await server.stop();
      }
    });
  });
});
