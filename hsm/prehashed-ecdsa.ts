/**
 * ECDSA over a digest the caller already computed ("prehashed"), for the
 * soft HSM only, through the `openssl pkeyutl` command.
 *
 * Why not node:crypto: Node 20 has no prehashed ECDSA. `crypto.sign(null,
 * digest, ecKey)` hashes its input with SHA-256 first (OpenSSL 3 picks the
 * key type's default digest when none is given), so its signature verifies
 * as sha256(digest), not as the digest: checked on Node 20.20 / OpenSSL
 * 3.0.19 by `crypto.verify('sha256', data, key, crypto.sign(null,
 * sha256(data), key))` being false. createSign, WebCrypto and KeyObject all
 * hash too, and no digest name means "identity". `openssl pkeyutl -sign`
 * calls EVP_PKEY_sign with no digest set, which signs the given bytes as the
 * hash: exactly CKM_ECDSA. Writing ECDSA by hand is not an option.
 *
 * The key is a throwaway test key of the soft HSM; it sits in a 0600 file of
 * a 0700 temp folder for the duration of one call (openssl cannot read a key
 * from a pipe that Node provides: Node's pipes are sockets, which /dev/fd
 * cannot reopen) and the folder is removed in `finally`. openssl runs with
 * an environment of PATH only: it must not inherit the server's secrets
 * (STRONGROOM_HSM_PIN and the like), which a child process could read or
 * leak through /proc/<pid>/environ.
 */
import { execFile } from 'node:child_process';
import { KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HsmError } from '../common/errors';

const execFileAsync = promisify(execFile);

/** Bytes of r and of s for P-256. */
const P256_SCALAR_BYTES = 32;
/** openssl signs in milliseconds; a hang must not stall a test run. */
const OPENSSL_TIMEOUT_MS = 30_000;

/** Where to look for openssl when the process has no PATH. */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The whole environment openssl gets: PATH, nothing else. */
export function opensslEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { PATH: env.PATH ?? DEFAULT_PATH };
}

/** Signs `digest` as-is with the EC `privateKey`; returns IEEE P1363 r||s. */
export async function signPrehashedP256(privateKey: KeyObject, digest: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'strongroom-softhsm-sign-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const digestFile = join(dir, 'digest.bin');
    // 'wx': created here with 0600 from the start, never an existing file.
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    await writeFile(digestFile, digest, { mode: 0o600, flag: 'wx' });
    const { stdout } = await execFileAsync('openssl', ['pkeyutl', '-sign', '-inkey', keyFile, '-in', digestFile], {
      encoding: 'buffer',
      timeout: OPENSSL_TIMEOUT_MS,
      env: opensslEnv(),
    });
    return derToP1363(stdout);
  } catch (err) {
    if (err instanceof HsmError) throw err;
    throw new HsmError('HSM_ERROR', 'soft HSM signing through `openssl pkeyutl` failed (is openssl installed?)', { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3), short-form lengths only (P-256). */
export function derToP1363(der: Buffer): Buffer {
  const malformed = (): HsmError => new HsmError('HSM_ERROR', 'openssl returned a malformed ECDSA signature');
  if (der.length < 2 || der[0] !== 0x30 || der[1] !== der.length - 2) throw malformed();
  const out = Buffer.alloc(2 * P256_SCALAR_BYTES);
  let offset = 2;
  for (let i = 0; i < 2; i += 1) {
    if (der[offset] !== 0x02) throw malformed();
    const length = der[offset + 1];
    let value = der.subarray(offset + 2, offset + 2 + length);
    if (length === undefined || value.length !== length || length === 0) throw malformed();
    while (value.length > 1 && value[0] === 0x00) value = value.subarray(1);
    if (value.length > P256_SCALAR_BYTES) throw malformed();
    value.copy(out, (i + 1) * P256_SCALAR_BYTES - value.length);
    offset += 2 + length;
  }
  if (offset !== der.length) throw malformed();
  return out;
}
