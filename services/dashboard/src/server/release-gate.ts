import { errorBody } from '@inv/contracts';
import { bearerToken } from '@inv/platform';
import { decodeJwt } from 'jose';

/** Who may release an order reservation from the dashboard; `/config.json` tells the page the same list. */
export const RELEASE_ROLES = ['manager', 'admin'] as const;

/**
 * A release, and a commit: a partial commit gives back what it does not name (a commit of nothing is a release),
 * and this gate cannot see the body, so every commit through the dashboard is a manager's too. Read from the path
 * as the services' router reads it, each segment decoded: `/res-1/%72elease` is a release there, and the proxy
 * forwards the path as it came. A path that does not decode is refused too (no router would take it).
 */
function releasesOrCommits(url: string): boolean {
  let segments: string[];
  try {
    segments = url
      .split('?')[0]!
      .split('/')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    return true;
  }
  if (segments.at(-1) === '') segments.pop(); // a trailing slash
  const [root, api, reservations, id, action] = segments;
  return (
    segments.length === 5 &&
    root === '' &&
    api === 'api' &&
    reservations === 'reservations' &&
    id !== '' &&
    (action === 'release' || action === 'commit')
  );
}

/**
 * The inventory service lets a reservation's creator (a shop integration letting a cart go) or a manager
 * release it; through the dashboard it is a manager's decision whoever made it. Like every proxied route, the
 * bearer token goes to the service, which verifies it: this gate reads the token's roles only to refuse
 * more. A forged token claiming `manager` passes here and is then refused by the service.
 * Returns the refusal to send, or null to let the request through.
 */
export function refuseReleaseByNonManager(method: string, url: string, authorization: string | undefined) {
  if (method !== 'POST' || !releasesOrCommits(url)) return null;
  const token = bearerToken(authorization);
  // No token at all: the service answers 401 as for any other route.
  if (!token) return null;
  let roles: unknown;
  try {
    roles = decodeJwt(token).roles;
  } catch {
    return null; // not a JWT: the service refuses it
  }
  const allowed = Array.isArray(roles) && roles.some((role) => RELEASE_ROLES.includes(role));
  if (allowed) return null;
  return errorBody(
    'FORBIDDEN',
    'releasing or committing a reservation from the dashboard takes the manager role',
    {
      details: { requiredRoles: [...RELEASE_ROLES] },
    },
  );
}
