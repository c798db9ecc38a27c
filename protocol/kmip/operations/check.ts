/**
 * Check (KMIP 2.1 §6.1.3, 1.4 §4.10): whether the object could be used as
 * the client intends, through the native Check (grant `get-attributes`,
 * audited as reads are), which answers every check that fails
 * (domain/object-check.ts). Success answers the Unique Identifier; a failed
 * check answers its KMIP Result Reason: Incompatible Cryptographic Usage
 * Mask for a usage the key's mask does not allow (Permission Denied in 1.x,
 * which lacks that reason). A mask bit the appliance
 * enforces on no key (Key Agreement, Certificate Sign, …: attribute-
 * template.ts refuses them at Create and Register) is in no key's mask, so
 * it fails the same way. Usage Limits Count asks whether that much remains
 * of the instance's usage limit (Usage Limit Exceeded if not; Illegal
 * Operation in 1.x); Lease Time whether the appliance's lease is that long
 * (Permission Denied if not); each is a native `Check` argument
 * (docs/kmip.md §3.14).
 */
import type { CheckFailure } from '../../../domain/object-check';
import type { InstanceView } from '../../../domain/view-types';
import { kmipReasonIn } from '../../../common/error-codes';
import { mask } from '../dictionary';
import { USAGE_OF_MASK_BIT } from './attribute-template';
import { instanceNamed } from './instance-identifier';
import { KmipOperation, KmipOperationError } from './kmip-operation';
import { PayloadReader, responsePayload, textItem } from './payload';

interface NativeCheck {
  readonly instance: InstanceView;
  readonly failures: readonly CheckFailure[];
}

/** The mask's bits as native usage names, and the KMIP names of bits no key here has. */
function splitMask(bits: number, path: string): { usage: string[]; never: string[] } {
  const table = mask('CryptographicUsageMask');
  const known = [...(table?.byName.values() ?? [])].reduce((all, bit) => all | bit, 0);
  if ((bits & ~known) !== 0) throw new KmipOperationError('InvalidField', `${path}/CryptographicUsageMask has bits KMIP does not define`);
  const usage: string[] = [];
  const never: string[] = [];
  for (const [name, bit] of table?.byName ?? []) {
    if ((bits & bit) === 0) continue;
    const native = USAGE_OF_MASK_BIT[name];
    if (native === undefined) never.push(name);
    else usage.push(native);
  }
  return { usage, never };
}

export const check: KmipOperation = {
  operation: 'Check',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const instance = instanceNamed(reader, ctx);
    const bits = reader.integer('CryptographicUsageMask');
    const count = reader.longInteger('UsageLimitsCount');
    const lease = reader.interval('LeaseTime');
    reader.rejectOthers();
    if (count !== undefined && (count < 1n || count > BigInt(Number.MAX_SAFE_INTEGER))) throw new KmipOperationError('InvalidField', `${reader.path}/UsageLimitsCount must be 1 to 2^53-1`);
    const { usage, never } = bits === undefined ? { usage: [], never: [] } : splitMask(bits, reader.path);
    const asked = {
      instance,
      ...(usage.length === 0 ? {} : { usage }),
      ...(count === undefined ? {} : { usageLimitCount: Number(count) }),
      ...(lease === undefined ? {} : { leaseSeconds: lease }),
    };
    const result = (await ctx.call('Check', asked)) as NativeCheck;
    const failure = result.failures.find((found) => found.check === 'usage');
    if (failure !== undefined || never.length > 0) {
      const missing = [...(failure?.missing ?? []), ...never].join(', ');
      // 1.x has no Incompatible Cryptographic Usage Mask: it answers Permission Denied (common/error-codes.ts).
      throw new KmipOperationError(kmipReasonIn('IncompatibleCryptographicUsageMask', ctx.version.major), `Check failed: the object's usage mask does not allow ${missing}`);
    }
    for (const found of result.failures) {
      if (found.check === 'usage-limit') {
        throw new KmipOperationError(kmipReasonIn('UsageLimitExceeded', ctx.version.major), `Check failed: ${found.asked} ${found.unit === 'byte' ? 'bytes' : 'operations'} asked, ${found.remaining} remain of the object's usage limit`);
      }
      if (found.check === 'lease') {
        throw new KmipOperationError('PermissionDenied', `Check failed: a lease of ${found.asked} s asked; the appliance leases served material for ${found.leaseSeconds} s`);
      }
    }
    return responsePayload([textItem('UniqueIdentifier', result.instance.name)]);
  },
};
