// The one way the UI talks to the register: fetch with the session cookie (sent by the browser,
// never read by this code), JSON in and out, RFC 9457 problems turned into ApiError. The UI
// decides nothing the API decides: who may see what, audit and validation stay on the server.

import { knowOrganisations } from './format.js';

/** A problem answer: HTTP status, title, detail and `errors` naming each field. */
export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem || {};
    super(p.detail || p.title || `request failed (${status})`);
    this.status = status;
    this.type = p.type || '';
    this.title = p.title || '';
    this.errors = Array.isArray(p.errors) ? p.errors : [];
  }

  /** True when the API asks for a stated reason (400 reason-required). */
  get reasonRequired() {
    return this.type.endsWith('/reason-required');
  }
}

let onUnauthenticated = () => {};

/** Called when a request comes back 401 (the session ended): the app signs the user out. */
export function setUnauthenticatedHandler(f) {
  onUnauthenticated = f;
}

// The reason last stated on any screen (kept in memory only). It is never sent by itself: a
// reason field starts empty and offers it only behind an explicit "use the same reason" button,
// so every audited action carries the reason its user gave for it (docs/ui.md).
let lastReason = '';

export function rememberReason(r) {
  const t = (r || '').trim();
  if (t) lastReason = t;
}

export function previousReason() {
  return lastReason;
}

// A header value is a byte string: send the reason as UTF-8 bytes, which the API decodes.
function utf8Header(s) {
  return Array.from(new TextEncoder().encode(s), (b) => String.fromCharCode(b)).join('');
}

/**
 * Calls the API. `body` is sent as JSON; `reason` as the X-NRMP-Reason header. Resolves to the
 * parsed JSON answer (null for 204); rejects with ApiError for a problem answer.
 */
export async function api(method, path, { body, reason: why } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (why && why.trim()) headers['X-NRMP-Reason'] = utf8Header(why.trim());
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, { title: 'The register could not be reached', detail: String(e.message || e) });
  }
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) {
    const err = new ApiError(res.status, data || { title: res.statusText });
    if (res.status === 401 && path !== '/api/v1/session') onUnauthenticated(err);
    throw err;
  }
  return data;
}

/** The organisations directory, fetched once per sign-in. */
let orgs = null;

export async function organisations() {
  if (!orgs) {
    orgs = await api('GET', '/api/v1/organisations');
    knowOrganisations(orgs);
  }
  return orgs;
}

export function forgetOrganisations() {
  orgs = null;
}
