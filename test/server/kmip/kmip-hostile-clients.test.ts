/**
 * Hostile KMIP clients against a real appliance: a numbered table of the
 * cases the transport fuzz test (kmip-transport-fuzz.test.ts) found the
 * server getting wrong, each pinned on a connection of its own, each ending
 * with another client still served.
 *
 * k01, k02: a message whose length cannot be trusted, read in the same
 * write as complete messages before it, used to be refused at once: the
 * answers to the earlier messages were dropped, and the client, reading
 * answers in order, took the refusal for the answer to its first request
 * (which had run). Now the earlier messages are answered first, then the
 * refusal, then the connection closes; nothing after the bad header is read.
 */
import { encodeRequest } from '../../../protocol/kmip/kmip-message-encoder';
import { ResponseMessage } from '../../../protocol/kmip/kmip-message';
import { integerItem, structureItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { KmipCredentials, KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

jest.setTimeout(60_000);

function discoverVersions(batchItemId: string, asked: readonly TtlvNode[] = []): Buffer {
  return encodeTtlv(
    encodeRequest({
      header: { protocolVersion: { major: 2, minor: 1 }, batchCount: 1 },
      batchItems: [{ operation: 'DiscoverVersions', uniqueBatchItemId: Buffer.from(batchItemId), requestPayload: structureItem('RequestPayload', asked) }],
    }),
  );
}

/** Every answer the server sends before it closes the connection. */
async function answersUntilClosed(client: KmipTlsClient): Promise<ResponseMessage[]> {
  const answers: ResponseMessage[] = [];
  for (;;) {
    try {
      answers.push(await client.next());
    } catch (err) {
      if (client.closed) return answers;
      throw err;
    }
  }
}

describe('hostile KMIP clients', () => {
  let t: TestAppliance;
  let hostile: KmipCredentials;
  let other: KmipTlsClient;

  beforeAll(async () => {
    t = await startTestAppliance();
    hostile = t.issue('kmip-hostile', 'app');
    other = await KmipTlsClient.open(t.server.kmipPort!, t.issue('kmip-other', 'app'));
  });

  afterEach(async () => {
    expect((await other.call('DiscoverVersions', structureItem('RequestPayload', []))).batchItems[0].resultStatus).toBe('Success');
  });

  afterAll(async () => {
    other?.destroy();
    await t?.stop();
  });

  it('k01_a_message_then_a_header_that_cannot_be_trusted_in_one_write_answers_the_message_then_Invalid_Message_then_closes', async () => {
    const client = await KmipTlsClient.open(t.server.kmipPort!, hostile);
    try {
      const badLength = Buffer.from([0x42, 0x00, 0x78, 0x01, 0x00, 0x00, 0x00, 0x0f]); // not a multiple of 8
      client.sendBytes(Buffer.concat([discoverVersions('first'), badLength, discoverVersions('never-read')]));
      const answers = await answersUntilClosed(client);
      expect(answers).toHaveLength(2);
      expect(answers[0].batchItems[0]).toMatchObject({ operation: 'DiscoverVersions', uniqueBatchItemId: new Uint8Array(Buffer.from('first')), resultStatus: 'Success' });
      expect(answers[1].batchItems[0]).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidMessage' });
      expect(answers[1].batchItems[0].resultMessage).toMatch(/multiple of 8/);
    } finally {
      client.destroy();
    }
  });

  it('k02_a_declared_length_8_short_answers_the_shortened_message_then_refuses_the_8_bytes_left_as_a_header_then_closes', async () => {
    // The fuzz case "DiscoverVersions 2.1, item at 0 length −8": the server reads a message 8 bytes short, then the
    // last 8 bytes (the value of Protocol Version Minor: 00000001 00000000, tag 0x000000) as the next header.
    const client = await KmipTlsClient.open(t.server.kmipPort!, hostile);
    try {
      const version21 = structureItem('ProtocolVersion', [integerItem('ProtocolVersionMajor', 2), integerItem('ProtocolVersionMinor', 1)]);
      const bytes = discoverVersions('short', [version21]);
      bytes.writeUInt32BE(bytes.readUInt32BE(4) - 8, 4);
      client.sendBytes(bytes);
      const answers = await answersUntilClosed(client);
      expect(answers.map((a) => a.batchItems[0].resultReason)).toEqual(['InvalidMessage', 'InvalidMessage']);
    } finally {
      client.destroy();
    }
  });
});
