/**
 * Subject alternative names for the server certificate (docs/protocol.md §1):
 * clients check the server by DNS name or IP literal, so each SAN is validated
 * here and turned into the forge altName form, IP addresses as their raw
 * network-order bytes (forge's own IP parser misreads IPv4-mapped IPv6).
 */
import { isIP } from 'node:net';
import { ValidationError } from '../../common/errors';

export interface SubjectAltName {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

/** At most this many SANs: each one is checked by every client on every handshake. */
export const MAX_SANS = 64;
/** RFC 1035 limit on a full DNS name. */
export const MAX_HOSTNAME_CHARS = 253;
/** RFC 1123 hostname: dot-separated labels of letters, digits and inner hyphens, 1..63 each. No wildcards. */
const HOSTNAME_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** forge's GeneralName tags (RFC 5280 §4.2.1.6). */
const GENERAL_NAME_DNS = 2;
const GENERAL_NAME_IP = 7;

export interface ForgeAltName {
  type: number;
  value: string;
}

function invalid(message: string): ValidationError {
  return new ValidationError(message, { details: { field: 'sans' } });
}

/** The 4 or 16 network-order bytes of an IP literal that net.isIP accepted, as a forge byte string. */
export function ipToBytes(ip: string): string {
  const family = isIP(ip);
  if (family === 4) return String.fromCharCode(...ip.split('.').map((part) => Number(part)));
  if (family !== 6 || ip.includes('%')) throw invalid('an ip SAN must be an IPv4 or IPv6 literal without a zone');
  let text = ip;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    // An IPv4-mapped or -embedded tail is the last 32 bits; keep a '::' that ends the prefix.
    const v4 = text.slice(lastColon + 1).split('.').map((part) => Number(part));
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    const prefix = text.slice(0, lastColon + 1);
    text = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
  }
  const [head, rest] = text.split('::');
  const headWords = head === '' ? [] : head.split(':');
  const restWords = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - tail.length - headWords.length - restWords.length;
  const words = [...headWords, ...(rest === undefined ? [] : Array<string>(missing).fill('0')), ...restWords]
    .map((word) => parseInt(word, 16))
    .concat(tail);
  if (words.length !== 8 || words.some((word) => !Number.isInteger(word) || word < 0 || word > 0xffff)) {
    throw invalid('an ip SAN must be an IPv4 or IPv6 literal');
  }
  return words.map((word) => String.fromCharCode(word >> 8, word & 0xff)).join('');
}

/** Validates the SAN list and converts it for forge's subjectAltName extension. */
export function toForgeAltNames(sans: unknown): ForgeAltName[] {
  if (!Array.isArray(sans) || sans.length === 0 || sans.length > MAX_SANS) {
    throw invalid(`sans must be an array of 1 to ${MAX_SANS} names`);
  }
  return sans.map((san: unknown): ForgeAltName => {
    const { type, value } = (san ?? {}) as { type?: unknown; value?: unknown };
    if (typeof value !== 'string') throw invalid('a SAN value must be a string');
    if (type === 'dns') {
      if (value.length > MAX_HOSTNAME_CHARS || !HOSTNAME_PATTERN.test(value) || isIP(value) !== 0) {
        throw invalid('a dns SAN must be a hostname (letters, digits, hyphens, dots; no wildcard)');
      }
      return { type: GENERAL_NAME_DNS, value: value.toLowerCase() };
    }
    if (type === 'ip') return { type: GENERAL_NAME_IP, value: ipToBytes(value) };
    throw invalid("a SAN type must be 'dns' or 'ip'");
  });
}
