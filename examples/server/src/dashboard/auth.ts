import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The cookie a dashboard login sets. */
export const SESSION_COOKIE = 'conveyor_dashboard';

/**
 * Who may see the dashboard: with a token, a request must carry it (as
 * `Authorization: Bearer <token>`) or the session cookie a login set; with
 * none, everyone (only allowed when the host listens on loopback).
 */
export interface DashboardAuth {
  /** true when the request may see the dashboard */
  allows(req: IncomingMessage): boolean;
  /** true when `candidate` is the token */
  checkToken(candidate: string): boolean;
  /** the `Set-Cookie` value of a session; `undefined` when there is no token */
  sessionCookie(): string | undefined;
  readonly open: boolean;
}

const equal = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/**
 * The dashboard's access rule. The session cookie is an HMAC of a fixed label
 * under the token, so it changes when the token does and no session state is
 * kept; it is `HttpOnly` and `SameSite=Strict`.
 */
export function createDashboardAuth(token: string | undefined): DashboardAuth {
  if (token === undefined || token === '') {
    return { allows: () => true, checkToken: () => false, sessionCookie: () => undefined, open: true };
  }
  const session = createHmac('sha256', token).update('conveyor-dashboard-session-v1').digest('hex');
  return {
    open: false,
    checkToken: (candidate) => equal(candidate, token),
    sessionCookie: () => `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`,
    allows(req) {
      const auth = req.headers.authorization;
      if (auth?.startsWith('Bearer ') && equal(auth.slice('Bearer '.length), token)) return true;
      const cookie = cookieValue(req, SESSION_COOKIE);
      return cookie !== undefined && equal(cookie, session);
    },
  };
}

/** true when `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\./.test(host);
}
