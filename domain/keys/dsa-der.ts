/**
 * DSA keys in DER, the two shapes only: a public key as X.509
 * SubjectPublicKeyInfo and a private key as PKCS#8 (RFC 3279 §2.3.2,
 * RFC 5958), both with the domain parameters (p, q, g) in the algorithm
 * identifier. node:crypto reads and writes these, but it gives a DSA key's
 * components to nobody (no JWK for DSA) and takes none, so the appliance
 * writes them (KMIP's Transparent DSA formats → DER) and reads them back
 * (to check them at Register, and for a Transparent Get). The reader is
 * strict: definite minimal lengths, minimal positive INTEGERs, exactly
 * these shapes and nothing after them; node:crypto must also accept, and
 * write back identically, whatever the appliance keeps
 * (domain/stored-objects.ts). Intermediate buffers that held a private
 * key's bytes are zeroed; the bigints cannot be (JavaScript has no way).
 */
import { ValidationError } from '../../common/errors';

export interface DsaDomain {
  readonly p: bigint;
  readonly q: bigint;
  readonly g: bigint;
}
export interface DsaPublicComponents extends DsaDomain {
  readonly y: bigint;
}
export interface DsaPrivateComponents extends DsaDomain {
  readonly x: bigint;
}

/** id-dsa, 1.2.840.10040.4.1 (RFC 3279 §2.3.2), with its tag and length. */
const ID_DSA = Buffer.from('06072a8648ce380401', 'hex');
const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;

/** SubjectPublicKeyInfo { AlgorithmIdentifier { id-dsa, Dss-Parms }, BIT STRING { INTEGER y } }. */
export function dsaPublicKeyDer(key: DsaPublicComponents): Buffer {
  const y = integer(key.y);
  return tlv(SEQUENCE, [algorithmIdentifier(key), tlv(BIT_STRING, [Buffer.from([0]), y])]);
}

/** PrivateKeyInfo { version 0, AlgorithmIdentifier { id-dsa, Dss-Parms }, OCTET STRING { INTEGER x } }. The caller zeroes the result. */
export function dsaPrivateKeyDer(key: DsaPrivateComponents): Buffer {
  const x = integer(key.x);
  const wrapped = tlv(OCTET_STRING, [x]);
  x.fill(0);
  try {
    return tlv(SEQUENCE, [integer(0n), algorithmIdentifier(key), wrapped]);
  } finally {
    wrapped.fill(0);
  }
}

/** The components of a DSA SubjectPublicKeyInfo; anything else is refused. */
export function readDsaPublicKey(der: Buffer): DsaPublicComponents {
  const outer = new DerReader(new DerReader(der).only(SEQUENCE));
  const domain = readAlgorithmIdentifier(outer);
  const bits = outer.read(BIT_STRING);
  outer.end();
  if (bits.length < 1 || bits[0] !== 0) throw malformed('the public key BIT STRING has unused bits');
  const y = new DerReader(bits.subarray(1)).only(INTEGER);
  return { ...domain, y: positive(y) };
}

/** The components of a DSA PKCS#8 PrivateKeyInfo; anything else is refused. */
export function readDsaPrivateKey(der: Buffer): DsaPrivateComponents {
  const outer = new DerReader(new DerReader(der).only(SEQUENCE));
  if (positiveOrZero(outer.read(INTEGER)) !== 0n) throw malformed('the PrivateKeyInfo version is not 0');
  const domain = readAlgorithmIdentifier(outer);
  const wrapped = outer.read(OCTET_STRING);
  outer.end();
  return { ...domain, x: positive(new DerReader(wrapped).only(INTEGER)) };
}

function algorithmIdentifier(domain: DsaDomain): Buffer {
  return tlv(SEQUENCE, [ID_DSA, tlv(SEQUENCE, [integer(domain.p), integer(domain.q), integer(domain.g)])]);
}

function readAlgorithmIdentifier(outer: DerReader): DsaDomain {
  const identifier = new DerReader(outer.read(SEQUENCE));
  const oid = identifier.read(0x06);
  if (!ID_DSA.subarray(2).equals(oid)) throw malformed('the algorithm is not id-dsa');
  const parameters = new DerReader(identifier.read(SEQUENCE));
  identifier.end();
  const domain = { p: positive(parameters.read(INTEGER)), q: positive(parameters.read(INTEGER)), g: positive(parameters.read(INTEGER)) };
  parameters.end();
  return domain;
}

/** A minimal two's-complement INTEGER of a non-negative value. */
function integer(value: bigint): Buffer {
  if (value < 0n) throw new ValidationError('a DSA key component must not be negative', { details: { field: 'material' } });
  const hex = value.toString(16);
  const digits = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  const content = digits[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), digits]) : digits;
  if (content !== digits) digits.fill(0);
  try {
    return tlv(INTEGER, [content]);
  } finally {
    content.fill(0);
  }
}

function tlv(tag: number, parts: readonly Buffer[]): Buffer {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const header = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : [tag, 0x82, length >> 8, length & 0xff];
  if (length > 0xffff) throw new ValidationError('a DSA key this large is not kept', { details: { field: 'material' } });
  return Buffer.concat([Buffer.from(header), ...parts]);
}

/** A positive minimal INTEGER's value (DER: no superfluous leading zero byte, no sign bit set). */
function positive(content: Buffer): bigint {
  const value = positiveOrZero(content);
  if (value === 0n) throw malformed('a component is zero');
  return value;
}

function positiveOrZero(content: Buffer): bigint {
  if (content.length === 0) throw malformed('an INTEGER is empty');
  if (content[0] >= 0x80) throw malformed('an INTEGER is negative');
  if (content.length > 1 && content[0] === 0 && content[1] < 0x80) throw malformed('an INTEGER is not minimal');
  return BigInt(`0x${content.toString('hex')}`);
}

const malformed = (why: string): ValidationError => new ValidationError(`the material is not a DSA key in DER: ${why}`, { details: { field: 'material' } });

/** Reads DER elements one after the other from a view (no copies). */
class DerReader {
  private at = 0;

  constructor(private readonly bytes: Buffer) {}

  /** The content of the one element these bytes are, with nothing after it. */
  only(tag: number): Buffer {
    const content = this.read(tag);
    this.end();
    return content;
  }

  read(tag: number): Buffer {
    if (this.at + 2 > this.bytes.length) throw malformed('it ends early');
    if (this.bytes[this.at] !== tag) throw malformed(`expected tag 0x${tag.toString(16)}, found 0x${this.bytes[this.at].toString(16)}`);
    let length = this.bytes[this.at + 1];
    let start = this.at + 2;
    if (length >= 0x80) {
      const count = length & 0x7f;
      if (count < 1 || count > 2 || start + count > this.bytes.length) throw malformed('a length is not definite, or too long');
      length = count === 1 ? this.bytes[start] : (this.bytes[start] << 8) | this.bytes[start + 1];
      if (length < (count === 1 ? 0x80 : 0x100)) throw malformed('a length is not minimal');
      start += count;
    }
    if (start + length > this.bytes.length) throw malformed('it ends early');
    this.at = start + length;
    return this.bytes.subarray(start, start + length);
  }

  end(): void {
    if (this.at !== this.bytes.length) throw malformed('bytes follow the key');
  }
}
