/**
 * The files of a client certificate the CLI writes (`client issue`, and
 * `approvals collect` of an issue that waited for officers): NAME.key (the
 * private key, made on this side and never sent), NAME.crt, ca.pem and, with
 * --p12, NAME.p12. Every one goes through cli/out-file.ts: 0600, never
 * through a symbolic link; key, certificate and PKCS#12 are never
 * overwritten.
 *
 * When the issue needs approval the private key is written before the request
 * leaves (so no request waits for a key that is lost) and stays in NAME.key
 * while the request waits; the collect finds it there, checks it belongs to
 * the certificate, and writes the rest beside it.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../../common/errors';
import { toPkcs12 } from '../../client/credentials';
import { IssuedCertificate } from '../backend/backend';
import { wire } from '../backend/wire-client';
import { assertNotLink, writeOutFile } from '../out-file';

export interface ClientFiles {
  readonly certificate: string;
  readonly privateKey: string;
  readonly ca: string;
  readonly pkcs12?: string;
}

export function clientFiles(out: string, name: string, p12: boolean): ClientFiles {
  return {
    certificate: join(out, `${name}.crt`),
    privateKey: join(out, `${name}.key`),
    ca: join(out, 'ca.pem'),
    ...(p12 ? { pkcs12: join(out, `${name}.p12`) } : {}),
  };
}

/**
 * Before anything is sent: INVALID_ARGUMENT naming the first key,
 * certificate or PKCS#12 file that exists (nothing is overwritten), and
 * OUT_FILE_REFUSED if ca.pem is a link or not a file (writeOutFile would
 * refuse it too, but only after the certificate was issued).
 */
export function assertWritable(files: ClientFiles): void {
  for (const path of [files.privateKey, files.certificate, files.pkcs12]) {
    if (path !== undefined && existsSync(path)) throw new ValidationError(`${path} exists; remove it or choose another --out`, { details: { path } });
  }
  assertNotLink(files.ca);
}

export function readPassphrase(file: string | undefined): string {
  let text: string | undefined;
  try {
    text = file ? readFileSync(file, 'utf8').replace(/\r?\n$/, '') : process.env.STRONGROOM_P12_PASSPHRASE;
  } catch (cause) {
    throw new ValidationError(`cannot read the passphrase file ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
  if (!text) throw new ValidationError('--p12 needs a passphrase: --passphrase-file or STRONGROOM_P12_PASSPHRASE');
  return text;
}

/** The private key kept for a collect: INVALID_ARGUMENT when it is missing or is not the certificate's. */
export function readKeptKey(path: string, certificatePem: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ValidationError(`cannot read ${path}, the private key kept when the request was made (${(cause as NodeJS.ErrnoException).code ?? 'error'}): give the --out that client issue or client renew used`, { cause, details: { path } });
  }
  let matches: boolean;
  try {
    const keySpki = createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' });
    matches = keySpki.equals(new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' }));
  } catch (cause) {
    throw new ValidationError(`${path} is not a readable private key`, { cause, details: { path } });
  }
  if (!matches) throw new ValidationError(`${path} is not the private key this certificate was issued for`, { details: { path } });
  return pem;
}

/** Writes the certificate, the CA certificate and, given a passphrase, the PKCS#12 beside the private key. */
export async function writeIssued(files: ClientFiles, issued: IssuedCertificate, privateKeyPem: string, passphrase: string | undefined): Promise<void> {
  writeOutFile(files.certificate, issued.certificatePem, { exclusive: true });
  // Shared by every client issued into this folder: replaced, still never through a link.
  writeOutFile(files.ca, issued.caPem);
  if (passphrase !== undefined && files.pkcs12 !== undefined) {
    // wire(): the client library's INVALID_ARGUMENT (a passphrase it cannot use) exits 2 like the CLI's own.
    const p12 = await wire(async () =>
      toPkcs12({ certificatePem: issued.certificatePem, privateKeyPem, caPem: issued.caPem, passphrase, friendlyName: issued.client.name }),
    );
    writeOutFile(files.pkcs12, p12, { exclusive: true });
  }
}

/** How the files are listed for humans. */
export function filesText(files: ClientFiles): string[] {
  return Object.entries(files).map(([k, v]) => `  ${k}: ${String(v)}`);
}
