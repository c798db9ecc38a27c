/**
 * Helpers shared by the key import tests (security/14–17, server/key-import):
 * a material the tests look for, its encodings, and reads of the live
 * keychain file as an attacker with the file would do them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TestAppliance } from './appliance-fixture';

/** Every way the material could sit in a file or a string: raw bytes, hex (both cases) and base64. */
export function encodingsOf(material: Buffer): Array<{ label: string; bytes: Buffer }> {
  return [
    { label: 'raw', bytes: material },
    { label: 'hex', bytes: Buffer.from(material.toString('hex')) },
    { label: 'HEX', bytes: Buffer.from(material.toString('hex').toUpperCase()) },
    { label: 'base64', bytes: Buffer.from(material.toString('base64')) },
  ];
}

/** Every file under the appliance's data folder (the keychain, its WAL and shared memory, logs) that holds one of the needles. */
export function filesHolding(dir: string, needles: ReadonlyArray<{ label: string; bytes: Buffer }>): string[] {
  const found: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else if (info.isFile()) {
        const content = readFileSync(path);
        for (const needle of needles) if (content.includes(needle.bytes)) found.push(`${path} (${needle.label})`);
      }
    }
  };
  walk(dir);
  return found;
}

/** Runs SQL on the live keychain file as an attacker with write access to it would (and bumps the change counter so caches reload). */
export function editKeychainFile(app: TestAppliance, edit: (db: Database.Database) => void): void {
  const db = new Database(join(app.dataDir, 'keychain.db'));
  try {
    edit(db);
    db.prepare('UPDATE keychain_changes SET counter = counter + 1').run();
  } finally {
    db.close();
  }
}

/** The stored arguments of an approval request, as the file holds them. */
export function storedArgs(app: TestAppliance, id: string): Record<string, unknown> {
  const db = new Database(join(app.dataDir, 'keychain.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT args FROM approval_requests WHERE id = ?').get(id) as { args: string };
    return JSON.parse(row.args) as Record<string, unknown>;
  } finally {
    db.close();
  }
}

/** The audit events as the file holds them (JSON text). */
export function auditEventTexts(app: TestAppliance): string[] {
  const db = new Database(join(app.dataDir, 'keychain.db'), { readonly: true });
  try {
    return (db.prepare('SELECT event FROM audit_events ORDER BY seq').all() as Array<{ event: string }>).map((r) => r.event);
  } finally {
    db.close();
  }
}

export interface ImportDetails {
  readonly requestId: string;
  readonly digest: string;
  readonly class: string;
}
