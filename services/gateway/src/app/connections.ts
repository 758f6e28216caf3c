import { WS_CLOSE } from '@inv/contracts';
import { handOverDelay, SHUTDOWN_NOTICE } from '../domain/frames.js';
import type { Connection } from './connection.js';
import type { GatewayMetrics } from './ports.js';

/**
 * Every open connection of the process and the one heartbeat sweep over them (no timer per connection). A
 * connection not heard from since the last sweep gets a WebSocket ping; one that has not answered by the next
 * sweep is closed with 4408, and one that does not finish closing is cut off.
 */
export class ConnectionRegistry {
  private readonly connections = new Set<Connection>();
  private readonly perUser = new Map<string, number>();
  private readonly perIp = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private emptied: Array<() => void> = [];

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly heartbeatMs: number,
    private readonly limits: { perUser: number; perIp: number } = { perUser: Infinity, perIp: Infinity },
  ) {}

  /** Why a new connection of this subject from this address is refused (its limit on this instance), or null. */
  refusal(user: string, ip: string): string | null {
    if ((this.perUser.get(user) ?? 0) >= this.limits.perUser)
      return `at most ${this.limits.perUser} connections per user on this instance`;
    if ((this.perIp.get(ip) ?? 0) >= this.limits.perIp)
      return `at most ${this.limits.perIp} connections per address on this instance`;
    return null;
  }

  add(connection: Connection): void {
    this.connections.add(connection);
    this.metrics.live.connections[connection.endpoint]++;
    count(this.perUser, connection.user, 1);
    count(this.perIp, connection.ip, 1);
  }

  remove(connection: Connection): void {
    if (this.connections.delete(connection)) {
      this.metrics.live.connections[connection.endpoint]--;
      count(this.perUser, connection.user, -1);
      count(this.perIp, connection.ip, -1);
    }
    if (this.connections.size === 0) for (const resolve of this.emptied.splice(0)) resolve();
  }

  get size(): number {
    return this.connections.size;
  }

  all(): Connection[] {
    return [...this.connections];
  }

  /**
   * Shutdown: each connection is told to reconnect and closed with 1001 at its own moment of `spreadMs`, and
   * served live until then. The instance's clients reach the others spread out, and none waits unserved
   * meanwhile (a client asked to wait after the close would miss everything published during its wait).
   */
  async handOver(spreadMs: number, random = Math.random): Promise<void> {
    await Promise.all(
      this.all().map(async (connection) => {
        const delay = handOverDelay(spreadMs, random);
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (connection.closing) return;
        connection.sendControl(SHUTDOWN_NOTICE);
        connection.close(WS_CLOSE.goingAway, 'server shutting down; reconnect and resume');
      }),
    );
  }

  startHeartbeat(): void {
    this.timer ??= setInterval(() => this.sweep(Date.now()), this.heartbeatMs);
    this.timer.unref();
  }

  stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.timer = this.expiryTimer = null;
  }

  /** Closes connections whose token has expired, checked every `intervalMs` (one timer for the process). */
  startExpiryCheck(intervalMs: number): void {
    this.expiryTimer ??= setInterval(() => this.closeExpired(Date.now()), intervalMs);
    this.expiryTimer.unref();
  }

  closeExpired(now: number): void {
    for (const connection of this.connections) {
      if (connection.closing || connection.expiresAt === null || connection.expiresAt > now) continue;
      this.metrics.tokenExpiryCloses.inc();
      connection.close(WS_CLOSE.unauthorized, 'the access token has expired');
    }
  }

  sweep(now: number): void {
    for (const connection of this.connections) {
      if (connection.closing) {
        if (now - connection.closingSince > 2 * this.heartbeatMs) connection.socket.terminate();
        continue;
      }
      if (connection.active) {
        connection.active = false;
        continue;
      }
      if (connection.pingPending) {
        this.metrics.heartbeatCloses.inc();
        connection.close(WS_CLOSE.heartbeatTimeout, 'no answer to ping');
        continue;
      }
      connection.pingPending = true;
      connection.socket.ping();
    }
  }

  /** Resolves once every connection has closed, or after `timeoutMs` having cut off the rest. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.connections.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.emptied.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const connection of this.connections) connection.socket.terminate();
  }
}

function count(counts: Map<string, number>, key: string, delta: 1 | -1): void {
  const next = (counts.get(key) ?? 0) + delta;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}
