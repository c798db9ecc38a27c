/**
 * `strongroom backup verify FILE` on this machine: the backup file read
 * here, checked against the signing key this operator trusts (a copy kept
 * apart with --public-key, from `strongroom audit public-key`; else the
 * HSM's own), and, when the HSM of the data folder's configuration opens
 * (the appliance could unseal), every instance opened
 * (domain/backup/backup-verify.ts says what each step proves). The snapshot
 * is extracted into a private temporary folder (private-work-dir.ts): there
 * is no appliance folder here.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { ApplianceConfig } from '../../common/config';
import { ValidationError } from '../../common/errors';
import { BackupVerdict, verifyBackup } from '../../domain/backup/backup-verify';
import { HsmPort } from '../../hsm/hsm-port';
import { openHsmFromConfig } from '../../server/compose/open-appliance';
import { withPrivateWorkDir } from './private-work-dir';

export type { BackupVerdict };

export interface BackupVerifyRequest {
  readonly file: string;
  readonly publicKeyFile?: string;
  /** False: the HSM is not opened (then --public-key is needed, and no instance is opened). */
  readonly useHsm: boolean;
  readonly onProgress?: (step: string, done: number, total: number) => void;
}

function readPublicKey(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ValidationError(`cannot read --public-key ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  if (!pem.includes('BEGIN PUBLIC KEY')) throw new ValidationError(`--public-key ${path} is not a PEM public key (get one with \`strongroom audit public-key\`)`);
  return pem;
}

export async function verifyBackupFile(config: () => ApplianceConfig, request: BackupVerifyRequest, warn: (message: string) => void): Promise<BackupVerdict> {
  if (!request.useHsm && request.publicKeyFile === undefined) {
    throw new ValidationError('--no-hsm needs --public-key FILE: without the HSM, the signing key to trust must come from a copy you kept');
  }
  try {
    accessSync(request.file, constants.R_OK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(cause));
    throw new ValidationError(`cannot read ${request.file} (${why}): give the path of a backup file on this machine (backup create --out wrote one)`, { cause, details: { path: request.file } });
  }
  // A folder passes the access check and fails only at the first read, as an internal error.
  if (!statSync(request.file).isFile()) {
    throw new ValidationError(`${request.file} is not a file: give the path of a backup file (backup create --out wrote one)`, { details: { path: request.file } });
  }
  let hsm: HsmPort | undefined;
  try {
    if (request.useHsm) hsm = await openHsmFromConfig(config(), warn);
    const trustedSigner = request.publicKeyFile !== undefined ? readPublicKey(request.publicKeyFile) : await (hsm as HsmPort).signingPublicKey();
    const signerSource = request.publicKeyFile !== undefined ? 'file' : 'hsm';
    return await withPrivateWorkDir('strongroom-backup-verify-', (workDir) => verifyBackup(request.file, { trustedSigner, signerSource, hsm, onProgress: request.onProgress, workDir }));
  } finally {
    await hsm?.close();
  }
}
