/**
 * The subset of node-postgres (`pg`) the store uses, typed structurally so a
 * caller can hand in their own pool (or a test a fake) without this package's
 * types depending on `@types/pg`.
 */

/** A query as `pg` takes it: a `name` makes it a prepared statement, parsed once per connection. */
export interface PgQueryConfig {
  readonly text: string;
  readonly values?: readonly unknown[];
  readonly name?: string;
}

/** What a query resolves to. */
export interface PgQueryResult {
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number | null;
}

/** A `pg.PoolClient`: one connection, checked out of the pool. */
export interface PgPoolClient {
  query(config: PgQueryConfig | string): Promise<PgQueryResult>;
  /** `release(error)` destroys the connection instead of returning it to the pool */
  release(error?: Error | boolean): void;
}

/** A `pg.Pool`. */
export interface PgPool {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** A notification as `pg` delivers it. */
export interface PgNotification {
  readonly channel: string;
  readonly payload?: string | undefined;
}

/** A dedicated connection for `LISTEN` (a `pg.Client`). */
export interface PgListenClient {
  connect(): Promise<unknown>;
  query(text: string): Promise<unknown>;
  on(event: 'notification', listener: (message: PgNotification) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  end(): Promise<void>;
}
