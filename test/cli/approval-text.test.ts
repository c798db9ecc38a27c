/**
 * The safe summaries `approvals show` prints (cli/commands/approval-text.ts):
 * a certificate and a public key by what identifies them, any other PEM
 * block (a private key) withheld, and a requester's control characters
 * escaped, so that neither key material nor a terminal escape reaches the screen.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import * as forge from 'node-forge';
import { approvalTarget, describeApproval, pemSummary, publicKeyFingerprint, restoreTargetLines, summarised } from '../../cli/commands/approval-text';
import type { ApprovalView } from '../../client/types';

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A throwaway self-signed certificate (node-forge, as the appliance's PKI uses). */
function selfSignedCertificate(subject: string): string {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = keys.publicKey;
  certificate.serialNumber = '01';
  certificate.validity.notBefore = new Date('2026-01-01T00:00:00Z');
  certificate.validity.notAfter = new Date('2027-01-01T00:00:00Z');
  const attributes = subject.split(',').map((part) => {
    const [shortName, value] = part.split('=');
    return { shortName, value };
  });
  certificate.setSubject(attributes);
  certificate.setIssuer(attributes);
  certificate.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}

function view(overrides: Partial<ApprovalView>): ApprovalView {
  return {
    id: 'req-1', operation: 'ClientIssue', args: {}, binding: null, class: 'grant-material', requester: 'alice', required: 2, approvals: 1,
    approvedBy: ['bob'], digest: 'ab'.repeat(32), createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-02T00:00:00.000Z', state: 'pending',
    result: null, error: null, finishedAt: null, finishedBy: null, reason: null, ...overrides,
  };
}

describe('approval text', () => {
  it('shows a public key as its type and SHA-256 fingerprint, and withholds a private key', () => {
    expect(pemSummary(publicPem)).toBe(`ec public key, SHA-256 ${publicKeyFingerprint(publicPem)}`);
    expect(pemSummary(privatePem)).toBe('[private key withheld]');
    expect(pemSummary('no pem here')).toBeNull();
    expect(pemSummary('-----BEGIN PRIVATE KEY-----\nMIIB… cut short')).toBe('[PEM withheld]');
    const shown = describeApproval(view({ args: { name: 'x', publicKeyPem: publicPem, note: privatePem } }));
    expect(shown).not.toContain('BEGIN');
    expect(shown).not.toContain(privatePem.split('\n')[1]);
  });

  it('shows a certificate by its subject and fingerprint, in a result too', () => {
    const pem = selfSignedCertificate('CN=ops-app,O=Example');
    const certificate = new X509Certificate(pem);
    expect(summarised({ client: { name: 'x' }, certificatePem: pem })).toEqual({ client: { name: 'x' }, certificatePem: `certificate "${certificate.subject.replace(/\n/g, ', ')}", SHA-256 ${certificate.fingerprint256}` });
  });

  it('escapes control characters a requester put in a value', () => {
    const shown = describeApproval(view({ operation: 'PolicyGrant', args: { group: 'g\u001b[2Jx\u009b', pattern: 'hr/*', permissions: ['get'] } }));
    expect(shown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(approvalTarget(view({ operation: 'PolicyGrant', args: { group: 'g', pattern: 'hr/*', permissions: ['get', 'decrypt'] } }))).toBe('get, decrypt on hr/* to group g');
  });

  it('names a restore\'s target as the backup it puts in place, and says when it rolls back or brings another keychain', () => {
    const name = 'backup-20261207T081500Z-1a2b3c4d.srbk';
    const restore = (target: Record<string, unknown>) => approvalTarget(view({ operation: 'BackupRestore', class: 'backup-restore', args: { name, sha256: 'cd'.repeat(32), target } }));
    expect(restore({ older: false, sameKeychain: true })).toBe(`backup ${name} (replaces the keychain)`);
    expect(restore({ older: true, sameKeychain: false })).toBe(`backup ${name} (replaces the keychain; another keychain's; older: rolls the keychain back)`);
    expect(restore({ older: false, sameKeychain: true, signedHere: true, signerFingerprint: 'AA:BB' })).toBe(`backup ${name} (replaces the keychain)`);
    expect(restore({ older: false, sameKeychain: false, signedHere: false, signerFingerprint: 'AA:BB' })).toBe(
      `backup ${name} (replaces the keychain; another keychain's; signed by ANOTHER appliance's key AA:BB: approve only if you know that key)`,
    );
  });
});

describe('a backup restore request, as approvers read it', () => {
  const name = 'backup-20261207T081500Z-1a2b3c4d.srbk';
  const target = { sha256: 'cd'.repeat(32), keychainId: 'kc-7', auditHeadSeq: 41, trustCounter: 9, signerFingerprint: 'AA:BB', signedHere: true, createdAt: '2026-12-07T08:15:00.000Z', sameKeychain: true, older: false, instances: 12 };
  const restore = (over: Record<string, unknown>) => view({ operation: 'BackupRestore', class: 'backup-restore', args: { name, sha256: target.sha256, target: { ...target, ...over } } });

  it('shows the target one fact a line, not as JSON', () => {
    const shown = describeApproval(restore({}));
    expect(shown).not.toContain('"keychainId"');
    expect(shown).toContain(`Backup file    ${name}`);
    expect(shown).toContain(`SHA-256        ${'cd'.repeat(32)}`);
    expect(shown).toContain("Keychain       kc-7 (this appliance's keychain)");
    expect(shown).toContain('Audit head     event 41');
    expect(shown).toContain('Trust counter  9');
    expect(shown).toContain('Instances      12');
    expect(shown).toContain("Signed by      AA:BB (this appliance's key)");
    expect(shown).toContain('Older          no');
  });

  it('spells out another keychain, another appliance\'s key and an older backup', () => {
    const lines = restoreTargetLines(restore({ sameKeychain: false, signedHere: false, older: true }), '');
    expect(lines).toContain("Keychain       kc-7 (ANOTHER keychain than this appliance's)");
    expect(lines.join('\n')).toMatch(/Signed by {6}AA:BB \(ANOTHER appliance's key, named by the requester: approve only if you know that key\)/);
    expect(lines.join('\n')).toMatch(/Older {10}YES: older than the current keychain/);
  });

  it('escapes what it prints and shows ? for a value that is not what the server stores', () => {
    const lines = restoreTargetLines(restore({ keychainId: 'kc\u001b[2J', older: 'maybe' }), '');
    expect(lines.join('\n')).not.toContain('\u001b');
    expect(lines).toContain('Older          ?');
  });
});
