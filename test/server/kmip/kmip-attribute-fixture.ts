/**
 * What the KMIP attribute tests share: a real appliance with keys made on
 * the native wire (KMIP Create is another helper's), KMIP clients of given
 * grants, and small readers of KMIP answers. Payloads are written in the
 * KMIP XML encoding, as the OASIS test cases write them.
 */
import { tagName } from '../../../protocol/kmip/dictionary';
import { parseKmipXml } from '../../../protocol/kmip/kmip-xml';
import { ProtocolVersion, ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

export const V14: ProtocolVersion = { major: 1, minor: 4 };
export const V21: ProtocolVersion = { major: 2, minor: 1 };

export interface Described {
  key: { fullName: string; currentInstance: string; usageMask: number };
  instances: Array<{ name: string; version: number }>;
}

/** The keys every attribute test finds: `kmip/*` for the granted clients, `other/hidden` for nobody but officers. */
export interface AttributeScene {
  readonly t: TestAppliance;
  readonly officer: RawConnection;
  /** kmip/alpha: AES-256 with a custom attribute, rolled over twice: instances v1, v2, v3 (current). */
  readonly alpha: Described;
  /** kmip/mac: HMAC-SHA256; kmip/secret: registered SECRET; kmip/pending: PreActive until a future date; other/hidden. */
  readonly mac: Described;
  readonly secret: Described;
  readonly pending: Described;
  readonly hidden: Described;
}

export async function nativeOk<R>(conn: RawConnection, op: string, args: Record<string, unknown>): Promise<R> {
  const res = await conn.request(op, args);
  if (res.error) throw new Error(`${op}: ${res.error.code} ${res.error.message}`);
  return res.result as R;
}

/** The scene, with `grants` given to newly issued apps: name → permissions on `kmip/*`. */
export interface StartedScene extends AttributeScene {
  readonly clients: Record<string, KmipTlsClient>;
  /**
   * A KMIP connection of the officer, opened now: a connection left unused
   * past the server's idle timeout is closed by it, so tests that use one
   * late open it then.
   */
  officerClient(): Promise<KmipTlsClient>;
  stop(): Promise<void>;
}

export async function startAttributeScene(grants: Record<string, string[]>): Promise<StartedScene> {
  const t = await startTestAppliance();
  const officer = await t.connect(t.officer);
  await nativeOk(officer, 'Create', { name: 'kmip/alpha', usage: ['encrypt', 'decrypt'], attributes: { team: 'hr' }, description: 'payroll key' });
  await nativeOk(officer, 'ReKey', { name: 'kmip/alpha' });
  const alpha = await nativeOk<Described>(officer, 'ReKey', { name: 'kmip/alpha' });
  const mac = await nativeOk<Described>(officer, 'Create', { name: 'kmip/mac', algorithm: 'HMAC-SHA256' });
  const secret = await nativeOk<Described>(officer, 'Register', { name: 'kmip/secret', material: Buffer.from('not a real secret').toString('base64') });
  const pending = await nativeOk<Described>(officer, 'Create', { name: 'kmip/pending', activateAt: '2099-01-01T00:00:00Z' });
  const hidden = await nativeOk<Described>(officer, 'Create', { name: 'other/hidden' });
  const clients: Record<string, KmipTlsClient> = {};
  for (const [name, permissions] of Object.entries(grants)) {
    await nativeOk(officer, 'PolicyGrant', { client: name, pattern: 'kmip/*', permissions });
    clients[name] = await KmipTlsClient.open(t.server.kmipPort!, t.issue(name, 'app'));
  }
  const opened: KmipTlsClient[] = Object.values(clients);
  const officerClient = async (): Promise<KmipTlsClient> => {
    const client = await KmipTlsClient.open(t.server.kmipPort!, t.officer);
    opened.push(client);
    return client;
  };
  const stop = async (): Promise<void> => {
    for (const client of opened) client.destroy();
    await t.stop();
  };
  return { t, officer, alpha, mac, secret, pending, hidden, clients, officerClient, stop };
}

export const payload = (xml: string): TtlvNode => parseKmipXml(`<RequestPayload>${xml}</RequestPayload>`);
export const uidXml = (uid: string): string => `<UniqueIdentifier type="TextString" value="${uid}"/>`;

export async function answer(client: KmipTlsClient, operation: string, xml: string, version: ProtocolVersion): Promise<ResponseBatchItem> {
  const response = await client.call(operation, payload(xml), version);
  expect(response.header.protocolVersion).toEqual(version);
  return response.batchItems[0];
}

/** The Response Payload's children of a successful answer. */
export async function succeed(client: KmipTlsClient, operation: string, xml: string, version: ProtocolVersion): Promise<TtlvNode[]> {
  const item = await answer(client, operation, xml, version);
  if (item.resultStatus !== 'Success') throw new Error(`${operation}: ${item.resultReason} ${item.resultMessage}`);
  return item.responsePayload!.value as TtlvNode[];
}

/** The Result Reason and Message of a refused answer. */
export async function refusal(client: KmipTlsClient, operation: string, xml: string, version: ProtocolVersion): Promise<{ reason?: string; message?: string }> {
  const item = await answer(client, operation, xml, version);
  expect(item.resultStatus).toBe('OperationFailed');
  return { reason: item.resultReason, message: item.resultMessage };
}

export const tagOf = (node: TtlvNode): string => tagName(node.tag) ?? '?';
export const childrenOf = (node: TtlvNode): TtlvNode[] => node.value as TtlvNode[];
export const child = (node: TtlvNode, tag: string): TtlvNode | undefined => childrenOf(node).find((c) => tagOf(c) === tag);

/** 1.x Attribute structures as [Attribute Name, Attribute Index?, Attribute Value] rows. */
export function attributes1(nodes: readonly TtlvNode[]): Array<{ name: string; index?: number; value: TtlvNode }> {
  return nodes
    .filter((n) => tagOf(n) === 'Attribute')
    .map((n) => ({ name: child(n, 'AttributeName')!.value as string, index: child(n, 'AttributeIndex')?.value as number | undefined, value: child(n, 'AttributeValue')! }));
}

/** The text values of the UniqueIdentifier children (Locate's answer). */
export const uids = (nodes: readonly TtlvNode[]): string[] => nodes.filter((n) => tagOf(n) === 'UniqueIdentifier').map((n) => n.value as string);
