/** The client error a call or promise fails with: a test helper of the client suites (fails the test when it succeeds or throws something else). */
import { isStrongroomClientError, StrongroomClientError } from '../../client/client-error';

export async function failure(work: Promise<unknown> | (() => unknown)): Promise<StrongroomClientError> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (err) {
    if (isStrongroomClientError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}
