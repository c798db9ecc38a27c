/**
 * Unambiguous byte encoding of a list of fields, for AADs and row MACs: each
 * field is a 4-byte big-endian length then its UTF-8 bytes, and null is the
 * length 0xFFFFFFFF with no bytes. No two different lists encode alike, so
 * ("ab","c") can never stand in for ("a","bc"), nor "" for null.
 */
const NULL_LENGTH = 0xffffffff;

export type Field = string | number | null;

export function encodeFields(fields: readonly Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    const length = Buffer.alloc(4);
    if (field === null) {
      length.writeUInt32BE(NULL_LENGTH);
      parts.push(length);
      continue;
    }
    const bytes = Buffer.from(String(field), 'utf8');
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}
