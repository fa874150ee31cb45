/**
 * PostgreSQL LISTEN/NOTIFY between replicas. Sending rides the replica's own connection, all
 * messages of an event-loop turn in one statement; receiving has a connection of its own, read
 * without blocking every POLL_MS (libpq queues what arrived; reading it costs one recv).
 */
import type { PgDatabase } from "./database";
import type { PgConnection } from "./libpq";

const POLL_MS = 5;
/** NOTIFY payloads are limited to 8000 bytes. */
const MAX_PAYLOAD = 7900;

export type NotifyHandler = (channel: string, payload: string) => void;

export class Notifier {
  private queued: [string, string][] = [];
  private flushScheduled = false;
  private readonly timer: ReturnType<typeof setInterval>;
  private stopped = false;

  /** `listener` is a connection of its own, for this notifier alone (LISTEN holds it). */
  constructor(
    private readonly sender: PgDatabase,
    private readonly listener: PgConnection,
    channels: string[],
    private readonly onMessage: NotifyHandler,
    private readonly onError: (error: unknown) => void,
  ) {
    const listen = () => {
      for (const channel of channels) this.listener.exec(`LISTEN ${quoteIdentifier(channel)}`);
    };
    listen();
    const previous = listener.onReconnect;
    listener.onReconnect = () => {
      previous?.();
      listen();
    };
    this.timer = setInterval(() => this.poll(), POLL_MS);
    this.timer.unref();
  }

  /** Queues a message; every replica listening on `channel` (this one too) receives it after this turn. */
  send(channel: string, payload: string) {
    if (this.stopped) return;
    if (payload.length > MAX_PAYLOAD) throw new Error(`notification payload over ${MAX_PAYLOAD} bytes`);
    this.queued.push([channel, payload]);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush() {
    this.flushScheduled = false;
    if (this.queued.length === 0 || this.stopped) return;
    const batch = this.queued;
    this.queued = [];
    try {
      this.sender.query("SELECT pg_notify(m->>0, m->>1) FROM json_array_elements($messages::json) AS m").run({ messages: JSON.stringify(batch) });
    } catch (error) {
      this.onError(error);
    }
  }

  private poll() {
    if (this.stopped) return;
    try {
      for (const { channel, payload } of this.listener.notifications()) this.onMessage(channel, payload);
    } catch (error) {
      this.onError(error);
    }
  }

  stop() {
    if (this.stopped) return;
    this.flush();
    this.stopped = true;
    clearInterval(this.timer);
  }
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
