/**
 * Shared steps of the KMIP lifecycle and dual-control tests: keys made and
 * approvals given over the native wire (as an appliance's officers would),
 * and KMIP payloads and answers read by tag name.
 */
import { ProtocolVersion, ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { bytesItem, enumItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { tagNumber } from '../../../protocol/kmip/dictionary';
import { RawConnection, TestAppliance } from '../../support/appliance-fixture';

export const V21: ProtocolVersion = { major: 2, minor: 1 };
export const V14: ProtocolVersion = { major: 1, minor: 4 };

/** A Request Payload naming one object. */
export const uidPayload = (instance: string, ...more: TtlvNode[]): TtlvNode => structureItem('RequestPayload', [textItem('UniqueIdentifier', instance), ...more]);

export const revocationReason = (code: string): TtlvNode => structureItem('RevocationReason', [enumItem('RevocationReasonCode', code)]);

export const correlationPayload = (value: Uint8Array): TtlvNode => structureItem('RequestPayload', [bytesItem('AsynchronousCorrelationValue', value)]);

/** A payload's child by tag name (undefined when absent). */
export function field(payload: TtlvNode | undefined, name: string): unknown {
  const tag = tagNumber(name);
  return (payload?.value as TtlvNode[] | undefined)?.find((child) => child.tag === tag)?.value;
}

/** The one answer of a one-item response. */
export function only(items: readonly ResponseBatchItem[]): ResponseBatchItem {
  expect(items).toHaveLength(1);
  return items[0];
}

/** Creates `name` over the native wire and returns its instance's name (the KMIP Unique Identifier). */
export async function createdInstance(wire: RawConnection, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const answer = await wire.request('Create', { name, ...args });
  expect(answer.error).toBeUndefined();
  return (answer.result as { instances: Array<{ name: string }> }).instances[0].name;
}

/** The instance's state, read over the native wire. */
export async function stateOf(wire: RawConnection, name: string): Promise<Record<string, unknown>> {
  const answer = await wire.request('GetAttributes', { name });
  expect(answer.error).toBeUndefined();
  return (answer.result as { instances: Array<Record<string, unknown>> }).instances[0];
}

/** One of `t.approvers` approves request `id` over the native wire, reading its digest first as an officer does; returns its state after. */
export async function approveOnce(t: TestAppliance, approver: number, id: string): Promise<string> {
  const wire = await t.connect(t.approvers[approver]);
  const shown = await wire.request('ApprovalGet', { id });
  expect(shown.error).toBeUndefined();
  const { digest } = (shown.result as { request: { digest: string } }).request;
  const answer = await wire.request('ApprovalApprove', { id, digest });
  expect(answer.error).toBeUndefined();
  return (answer.result as { request: { state: string } }).request.state;
}
