/**
 * The listeners that hold clients' connections, as the services see them: a
 * revocation closes every open connection of the client, on every listener
 * (key server, event stream). The services are built before the listeners
 * start, so listeners register here when they do, instead of the services
 * reaching for variables declared later.
 */
export interface ConnectionHolder {
  disconnectClient(name: string): void;
  recheckClients(): void;
}

export class ClientConnections {
  private readonly holders = new Set<ConnectionHolder>();

  register(holder: ConnectionHolder): () => void {
    this.holders.add(holder);
    return () => this.holders.delete(holder);
  }

  /** Closes every open connection of `name` (after its revocation). */
  disconnect(name: string): void {
    for (const holder of this.holders) holder.disconnectClient(name);
  }

  /** Closes connections whose client another process revoked. */
  recheck(): void {
    for (const holder of this.holders) holder.recheckClients();
  }
}
