/**
 * `strongroom key export` and `key register --unwrap-key` over the wire
 * (docs/strongroom.1.md): `strongroom serve` in a child process, the
 * officers init made (admin asks, officer-2 and officer-3 approve). An
 * export under the requester's RSA key exits 12, and once approved
 * `approvals collect` prints bytes the requester's private key unwraps; the
 * same key, wrapped under a transport key, comes back in as a wrapped
 * import whose approvers see the KCV the export printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyCheckValue } from '../../domain/keys/key-check-value';
import { assertCliBuilt, cli, CliRun as Run, ServingCli, startServe } from '../support/cli-runner';
import { kwpWrap, rsaOaepUnwrap, rsaPair } from '../support/byok-support';

describe('strongroom key export and wrapped key register', () => {
  let dir: string;
  let data: string;
  let server: ServingCli;
  let remote: (...args: string[]) => Run;
  let approveByOthers: (run: Run) => { state: string };
  const receiver = rsaPair();

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-export-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
    const certs = join(data, 'pki');
    server = await startServe(data, { STRONGROOM_CLEAR_KEY_IMPORT: 'dual-control' });
    remote = (...args) => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--json', ...args]);
    const as = (name: string, ...args: string[]): Run => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', join(certs, `${name}.crt`), '--key', join(certs, `${name}.key`), '--json', ...args]);
    approveByOthers = (run) => {
      expect(run.status).toBe(12);
      const { requestId, digest } = run.json.error.details;
      let last: Run | null = null;
      for (const officer of ['officer-2', 'officer-3']) {
        last = as(officer, 'approvals', 'approve', requestId, '--digest', digest);
        expect(last.status).toBe(0);
      }
      return (last as Run).json.request;
    };
    writeFileSync(join(dir, 'receiver.pub.pem'), receiver.publicPem);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports under an RSA public key (exit 12, then collect prints the wrapped bytes), and imports them back wrapped under a transport key', () => {
    expect(remote('key', 'create', 'hr/payroll').status).toBe(0);
    const asked = remote('key', 'export', 'hr/payroll', '--rsa-public-key', join(dir, 'receiver.pub.pem'));
    expect(asked.json.error).toMatchObject({ code: 'APPROVAL_REQUIRED', details: { class: 'key-export', operation: 'Export' } });
    const shown = remote('approvals', 'show', asked.json.error.details.requestId);
    expect(shown.json.request.args.wrapFingerprint).toBe(receiver.fingerprint);
    expect(approveByOthers(asked).state).toBe('approved');
    const collected = remote('approvals', 'collect', asked.json.error.details.requestId);
    expect(collected.status).toBe(0);
    expect(collected.json).toMatchObject({ key: { fullName: 'hr/payroll' }, wrapMethod: 'RSA-OAEP-SHA256', wrappingKey: { fingerprint: receiver.fingerprint }, encoding: 'base64' });
    const material = rsaOaepUnwrap(receiver, Buffer.from(collected.json.wrapped, 'base64'));
    expect(keyCheckValue('AES-256', material).value).toBe(collected.json.kcv);

    // The transport key: a custodian's material, imported under dual control; admin may then unwrap under it.
    const kek = randomBytes(32);
    writeFileSync(join(dir, 'kek.hex'), kek.toString('hex'));
    expect(approveByOthers(remote('key', 'register', 'xfer/kek', '-a', 'AES-256', '--encoding', 'hex', '--from-file', join(dir, 'kek.hex'))).state).toBe('executed');
    expect(approveByOthers(remote('policy', 'grant', '--client', 'admin', '--pattern', 'xfer/*', '--permissions', 'decrypt')).state).toBe('executed');
    writeFileSync(join(dir, 'payroll.wrapped'), kwpWrap(kek, material));
    const imported = remote('key', 'register', 'hr/payroll-copy', '-a', 'AES-256', '--unwrap-key', 'xfer/kek', '--from-file', join(dir, 'payroll.wrapped'));
    const view = remote('approvals', 'show', imported.json.error.details.requestId);
    expect(view.json.request.args).toMatchObject({ kcv: collected.json.kcv, materialLength: 32, unwrappedBy: { method: 'AES-KWP', key: 'xfer/kek' } });
    expect(approveByOthers(imported).state).toBe('executed');
    material.fill(0);
  });

  it.each([
    [['--rsa-public-key', 'x.pem', '--wrap-key', 'xfer/kek'], /exactly one of --rsa-public-key/],
    [[], /exactly one of --rsa-public-key/],
    [['--wrap-instance', 'abc', '--rsa-public-key', 'x.pem'], /--wrap-instance goes with --wrap-key/],
  ])('refuses %j before any request (exit 2)', (options, message) => {
    const run = remote('key', 'export', 'hr/payroll', ...options);
    expect(run.status).toBe(2);
    expect(run.json.error.message).toMatch(message);
  });

  it('is refused in local mode, export and wrapped import alike (both dual-controlled)', () => {
    const run = cli(['--data', data, '--json', 'key', 'export', 'hr/payroll', '--wrap-key', 'xfer/kek']);
    expect(run.json.error.code).toBe('DUAL_CONTROL_LOCAL_MODE');
    const wrapped = cli(['--data', data, '--json', 'key', 'register', 'hr/other', '--unwrap-key', 'xfer/kek', '--encoding', 'hex', '--from-file', join(dir, 'kek.hex')]);
    expect(wrapped.json.error.code).toBe('DUAL_CONTROL_LOCAL_MODE');
  });
});
