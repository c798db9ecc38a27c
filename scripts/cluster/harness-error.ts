/**
 * The cluster harness's error: a test or a developer's set-up failed to
 * start, observe or stop the engine (etcd, Patroni, PostgreSQL). Not an
 * appliance error code: the harness is test infrastructure, and its messages
 * say which member failed and where its log is.
 */
export class ClusterHarnessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterHarnessError';
  }
}
