/**
 * Interop (KMIP 2.1 §6.1.24) against a real appliance: served only with
 * `kmip_interop = on`, where each Begin, End and Reset answers Success and
 * leaves an `interop` audit event naming the function, the identifier and
 * the client; refused as an operation the server does not have when off
 * (the default), on both wires. An identifier longer than the native limit,
 * and a function KMIP does not define, are refused naming the field.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { MAX_INTEROP_IDENTIFIER, MAX_LOG_MESSAGE } from '../../../protocol/op-schemas';
import { structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { tagNumber } from '../../../protocol/kmip/dictionary';
import { startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { only, V21 } from './lifecycle-support';

jest.setTimeout(90_000);

const INTEROP_FUNCTION = tagNumber('InteropFunction')!;

/** An Interop payload; `functionValue` is the raw enumeration value, so a value KMIP does not define can be sent. */
function interopPayload(functionValue: number, identifier: string): TtlvNode {
  return structureItem('RequestPayload', [{ tag: INTEROP_FUNCTION, type: 'Enumeration', value: functionValue } as TtlvNode, textItem('InteropIdentifier', identifier)]);
}
const BEGIN = 1;
const END = 2;
const RESET = 3;

describe('Interop, served (kmip_interop = on)', () => {
  let t: TestAppliance;
  let harness: KmipTlsClient;

  beforeAll(async () => {
    t = await startTestAppliance({ kmip_interop: 'on' });
    harness = await KmipTlsClient.open(t.server.kmipPort!, t.issue('interop-harness', 'app'));
  });

  afterAll(async () => {
    harness?.destroy();
    await t?.stop();
  });

  test('Begin, End and Reset answer Success with an empty payload, and each leaves an audit event naming the function, the identifier and the client', async () => {
    for (const [fn, identifier] of [[BEGIN, 'BL-M-1-21'], [END, 'BL-M-1-21'], [RESET, 'BL-M-2-21']] as const) {
      const answer = only((await harness.call('Interop', interopPayload(fn, identifier), V21)).batchItems);
      expect(answer).toMatchObject({ operation: 'Interop', resultStatus: 'Success' });
      expect(answer.responsePayload?.value).toEqual([]);
    }
    const auditor = await t.connect(t.issue('interop-auditor', 'auditor'));
    const found = await auditor.request('AuditSearch', { type: 'interop' });
    const events = (found.result as { events: Array<{ event: { identity: { name: string }; custom: Record<string, string> } }> }).events.map((e) => e.event);
    expect(events.map((e) => [e.identity.name, e.custom.function, e.custom.identifier])).toEqual([
      ['interop-harness', 'begin', 'BL-M-1-21'],
      ['interop-harness', 'end', 'BL-M-1-21'],
      ['interop-harness', 'reset', 'BL-M-2-21'],
    ]);
    auditor.destroy();
  });

  test('an identifier past the limit, a function KMIP does not define, and a missing identifier are Invalid Field, and leave no marker', async () => {
    const long = only((await harness.call('Interop', interopPayload(BEGIN, 'x'.repeat(MAX_INTEROP_IDENTIFIER + 1)), V21)).batchItems);
    expect(long).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidField' });
    expect(long.resultMessage).toMatch(/identifier/);
    const unknown = only((await harness.call('Interop', interopPayload(4, 'BL-M-1-21'), V21)).batchItems);
    expect(unknown).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidField' });
    expect(unknown.resultMessage).toMatch(/InteropFunction/);
    const missing = only((await harness.call('Interop', structureItem('RequestPayload', [{ tag: INTEROP_FUNCTION, type: 'Enumeration', value: BEGIN } as TtlvNode]), V21)).batchItems);
    expect(missing).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidField' });
    const auditor = await t.connect(t.issue('interop-auditor-2', 'auditor'));
    const found = await auditor.request('AuditSearch', { type: 'interop' });
    const identifiers = (found.result as { events: Array<{ event: { custom: Record<string, string> } }> }).events.map((e) => e.event.custom.identifier);
    expect(identifiers.filter((id) => id.length > MAX_INTEROP_IDENTIFIER)).toEqual([]);
    auditor.destroy();
  });
});

describe('Interop, not served (the default)', () => {
  let t: TestAppliance;

  beforeAll(async () => {
    t = await startTestAppliance();
  });

  afterAll(async () => {
    await t?.stop();
  });

  test('KMIP answers Operation Not Supported, the native wire UNKNOWN_OPERATION, and no marker is written', async () => {
    const client = await KmipTlsClient.open(t.server.kmipPort!, t.issue('interop-client', 'app'));
    const refused = only((await client.call('Interop', interopPayload(BEGIN, 'BL-M-1-21'), V21)).batchItems);
    expect(refused).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'OperationNotSupported' });
    expect(refused.resultMessage).toMatch(/^UNKNOWN_OPERATION: .*kmip_interop is off/);
    client.destroy();
    const native = await t.connect(t.officer);
    const answer = await native.request('Interop', { function: 'begin', identifier: 'marker' });
    expect(answer.error).toMatchObject({ code: 'UNKNOWN_OPERATION' });
    const auditor = await t.connect(t.issue('interop-auditor', 'auditor'));
    const found = await auditor.request('AuditSearch', { type: 'interop' });
    expect((found.result as { events: unknown[] }).events).toEqual([]);
    auditor.destroy();
    native.destroy();
  });

  test('Log is served whatever kmip_interop says: the message goes into a log event naming the client; one past the limit is Invalid Field', async () => {
    const client = await KmipTlsClient.open(t.server.kmipPort!, t.issue('log-client', 'app'));
    const logged = only((await client.call('Log', structureItem('RequestPayload', [textItem('LogMessage', 'Registered a symmetric key.')]), V21)).batchItems);
    expect(logged).toMatchObject({ operation: 'Log', resultStatus: 'Success' });
    expect(logged.responsePayload?.value).toEqual([]);
    const long = only((await client.call('Log', structureItem('RequestPayload', [textItem('LogMessage', 'x'.repeat(MAX_LOG_MESSAGE + 1))]), V21)).batchItems);
    expect(long).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidField' });
    client.destroy();
    const auditor = await t.connect(t.issue('log-auditor', 'auditor'));
    const found = await auditor.request('AuditSearch', { type: 'log' });
    const events = (found.result as { events: Array<{ event: { identity: { name: string }; custom: Record<string, string> } }> }).events.map((e) => e.event);
    expect(events.map((e) => [e.identity.name, e.custom.message])).toEqual([['log-client', 'Registered a symmetric key.']]);
    auditor.destroy();
  });
});
