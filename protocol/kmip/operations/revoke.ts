/**
 * Revoke (KMIP 2.1 §6.1.44, 1.4 §4.20) through the native Revoke (grant
 * `revoke`): the Revocation Reason Code becomes the native reason; Key
 * Compromise and CA Compromise make the instance Compromised (the Compromise
 * Occurrence Date, when given, is its compromise date), any other reason
 * Deactivated. The native lifecycle decides which states may be revoked.
 * A Revocation Message goes with it to the native Revoke, whose audit event
 * keeps it (`custom.revocationMessage`; at most 200 characters).
 */
import { REVOCATION_REASONS } from '../../op-schemas';
import { instanceNamed, uniqueIdentifierPayload } from './instance-identifier';
import { KmipOperation, KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

type NativeReason = (typeof REVOCATION_REASONS)[number];

/** KMIP's Revocation Reason Code names → the native reasons (the same list, in the native wire's spelling). */
export const NATIVE_REASON: Readonly<Record<string, NativeReason>> = {
  Unspecified: 'unspecified',
  KeyCompromise: 'keyCompromise',
  CACompromise: 'caCompromise',
  AffiliationChanged: 'affiliationChanged',
  Superseded: 'superseded',
  CessationOfOperation: 'cessationOfOperation',
  PrivilegeWithdrawn: 'privilegeWithdrawn',
};

const COMPROMISE_REASONS: ReadonlySet<NativeReason> = new Set(['keyCompromise', 'caCompromise']);

/** The Revocation Reason structure's code, and its Revocation Message (the native Revoke's `message`: it goes into the audit event). */
function reasonOf(reader: PayloadReader): { reason: NativeReason; message?: string } {
  const reason = reader.structure('RevocationReason');
  if (reason === undefined) throw new KmipOperationError('InvalidField', `${reader.path}/RevocationReason is required`);
  const code = reason.enumName('RevocationReasonCode');
  if (code === undefined) throw new KmipOperationError('InvalidField', `${reason.path}/RevocationReasonCode is required`);
  const message = reason.text('RevocationMessage');
  reason.rejectOthers();
  const native = NATIVE_REASON[code];
  if (native === undefined) throw new KmipOperationError('InvalidField', `${reason.path}/RevocationReasonCode ${code} is not served`);
  return { reason: native, message };
}

/** A Date-Time (seconds since 1970) as the ISO 8601 text the native Revoke takes. */
function isoOf(seconds: bigint, path: string): string {
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999 || date.getUTCFullYear() < 1) throw new KmipOperationError('InvalidField', `${path} is out of range`);
  return date.toISOString();
}

export const revoke: KmipOperation = {
  operation: 'Revoke',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const instance = instanceNamed(reader, ctx);
    const { reason, message } = reasonOf(reader);
    const occurred = reader.date('CompromiseOccurrenceDate');
    reader.rejectOthers();
    if (occurred !== undefined && !COMPROMISE_REASONS.has(reason)) {
      // KMIP: it SHALL NOT be specified for other reasons (a deactivation has no compromise date).
      throw new KmipOperationError('InvalidField', `${reader.path}/CompromiseOccurrenceDate is only for Key Compromise and CA Compromise`);
    }
    const compromiseDate = occurred === undefined ? undefined : isoOf(occurred, `${reader.path}/CompromiseOccurrenceDate`);
    return uniqueIdentifierPayload(await ctx.call('Revoke', { instance, reason, compromiseDate, message }));
  },
};
