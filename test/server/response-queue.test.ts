/**
 * The native connection's response queue: responses leave in request order
 * whatever order their audits complete in, a waiting one holds back the
 * ones after it, the writes of one turn are corked together, and idle()
 * resolves once every reserved response is written.
 */
import { TLSSocket } from 'node:tls';
import { ResponseQueue } from '../../server/tls/response-queue';

/** Records what a socket is asked to do: the queue only corks, uncorks and writes (through the given write). */
function fakeSocket(log: string[]): TLSSocket {
  return { cork: () => log.push('cork'), uncork: () => log.push('uncork') } as unknown as TLSSocket;
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

describe('ResponseQueue', () => {
  it('writes a ready response at once when nothing waits before it', async () => {
    const log: string[] = [];
    const queue = new ResponseQueue(fakeSocket(log), (bytes) => log.push(bytes.toString()));
    queue.ready(() => Buffer.from('a'));
    expect(log).toEqual(['cork', 'a']);
    await nextTick();
    expect(log).toEqual(['cork', 'a', 'uncork']);
  });

  it('keeps request order: a response waiting for its audit holds back the ready ones after it', async () => {
    const log: string[] = [];
    const queue = new ResponseQueue(fakeSocket(log), (bytes) => log.push(bytes.toString()));
    const first = queue.reserve();
    const second = queue.reserve();
    queue.ready(() => Buffer.from('c'));
    second(() => Buffer.from('b'));
    expect(log).toEqual([]);
    expect(queue.pending).toBe(3);
    const idle = queue.idle();
    first(() => Buffer.from('a'));
    expect(log).toEqual(['cork', 'a', 'b', 'c']);
    expect(queue.pending).toBe(0);
    await idle;
    await nextTick();
    expect(log).toEqual(['cork', 'a', 'b', 'c', 'uncork']);
  });

  it('fills a reserved place once: a second answer is ignored', () => {
    const log: string[] = [];
    const queue = new ResponseQueue(fakeSocket(log), (bytes) => log.push(bytes.toString()));
    const only = queue.reserve();
    only(() => Buffer.from('a'));
    only(() => Buffer.from('again'));
    expect(log).toEqual(['cork', 'a']);
  });

  it('corks each turn anew', async () => {
    const log: string[] = [];
    const queue = new ResponseQueue(fakeSocket(log), (bytes) => log.push(bytes.toString()));
    queue.ready(() => Buffer.from('a'));
    queue.ready(() => Buffer.from('b'));
    await nextTick();
    queue.ready(() => Buffer.from('c'));
    await nextTick();
    expect(log).toEqual(['cork', 'a', 'b', 'uncork', 'cork', 'c', 'uncork']);
  });
});
