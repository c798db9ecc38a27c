/**
 * The 2.x Quantum Safe attribute at Create and Register (KMIP 2.1, and
 * the QS profile's case QS-M-2): a client asking that the new object be
 * quantum safe for an algorithm and length that cannot be is refused
 * before anything else, whatever else the request asks, because no server
 * could honour it: Grover's search leaves a symmetric key half its bits of
 * strength, so AES-128 (64 bits against a quantum adversary) is not quantum
 * safe and AES-256 is. KMIP has no Result Reason for it: General Failure,
 * with the reason in the message (the OASIS reference server answers the
 * same). Quantum Safe on a key that would be safe is still refused where it
 * is read (attribute-template.ts): the appliance does not keep the attribute.
 * Pure.
 */
import { enumeration, tagName } from '../dictionary';
import { TtlvNode } from '../ttlv';
import { KmipOperationError } from './kmip-operation';

/** Least symmetric key length (bits) that keeps 128 bits of strength against Grover's search. */
const QUANTUM_SAFE_SYMMETRIC_BITS = 256;

/** Refuses the items of a 2.x Attributes structure that ask Quantum Safe for a key that cannot be. */
export function refuseUnsafeQuantumRequest(items: readonly TtlvNode[]): void {
  const find = (tag: string): TtlvNode | undefined => items.find((node) => tagName(node.tag) === tag);
  const asked = find('QuantumSafe');
  if (asked?.type !== 'Boolean' || !asked.value) return;
  const algorithmNode = find('CryptographicAlgorithm');
  const lengthNode = find('CryptographicLength');
  if (algorithmNode?.type !== 'Enumeration' || lengthNode?.type !== 'Integer') return; // left to the usual checks
  const algorithm = enumeration('CryptographicAlgorithm')?.byValue.get(algorithmNode.value);
  if (algorithm === 'AES' && lengthNode.value < QUANTUM_SAFE_SYMMETRIC_BITS) {
    throw new KmipOperationError(
      'GeneralFailure',
      `Quantum Safe: AES-${lengthNode.value} is not quantum safe (Grover's search leaves it ${lengthNode.value / 2} bits of strength); AES-${QUANTUM_SAFE_SYMMETRIC_BITS} is`,
    );
  }
}
