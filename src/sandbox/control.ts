/**
 * The control API under `/_sandbox/`, mounted by the sandbox alone (never by `keymint serve`): a
 * test written in another language, or a person with curl, drives the same controls as the
 * programmatic API. JSON in and out; every bad input is a 400 naming the field.
 *
 *   GET    /_sandbox                 what it serves: issuer, mounts, clients (ids, never secrets), clock, faults
 *   GET    /_sandbox/faults          faults set (spent too)   POST: add one (201 + its state)   DELETE: remove all
 *   DELETE /_sandbox/faults/{id}     remove one
 *   GET    /_sandbox/clock           { offsetMs, now }        POST { advanceMs } or { offsetMs }
 *   GET    /_sandbox/requests        the request record       DELETE: clear it
 *   GET    /_sandbox/clients/{id}/claims   a client's static claims (id or declared name)
 *   PUT    /_sandbox/clients/{id}/claims   replace them (the body is the claims object; {} for none)
 *   POST   /_sandbox/reset           faults, clock, declared claims and record back to the start
 */
import type { Handler } from '../http/router.ts';
import { json, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import { MAX_CLOCK_OFFSET_MS } from './clock.ts';
import { SandboxInputError } from './errors.ts';
import type { SandboxPanelControls } from '../wire/sandbox.ts';

export const CONTROL_PREFIX = '/_sandbox';

/** What the control API drives; the programmatic API is the same object, and the console's panel drives part of it. */
export interface SandboxControls extends SandboxPanelControls {
  overview(): Record<string, unknown>;
  /** A client's static claims by id or declared name; undefined: no such client. */
  claims(client: string): Promise<ClientClaims | undefined>;
  /** Replaces them (throws SandboxInputError for bad claims); undefined: no such client. */
  setClaims(client: string, claims: unknown): Promise<ClientClaims | undefined>;
}

export interface ClientClaims {
  readonly client_id: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

const NO_STORE = { 'Cache-Control': 'no-store' };
const ok = (status: number, body: unknown): HttpResponse => json(status, body, NO_STORE);
const problem = (status: number, error: string, description: string): HttpResponse => json(status, { error, error_description: description }, NO_STORE);

export function controlHandler(controls: SandboxControls): Handler {
  return async (req) => {
    const path = req.path.replace(/\/+$/, '');
    if (path !== CONTROL_PREFIX && !path.startsWith(`${CONTROL_PREFIX}/`)) return problem(404, 'not_found', 'No such endpoint.');
    const rest = path.slice(CONTROL_PREFIX.length);
    try {
      return await route(controls, req, rest);
    } catch (err) {
      if (err instanceof SandboxInputError) return problem(400, 'invalid_request', err.message);
      throw err;
    }
  };
}

async function route(c: SandboxControls, req: HttpRequest, rest: string): Promise<HttpResponse> {
  const m = req.method === 'HEAD' ? 'GET' : req.method;
  switch (rest) {
    case '':
      return m === 'GET' ? ok(200, c.overview()) : notAllowed('GET');
    case '/faults':
      if (m === 'GET') return ok(200, { faults: c.faults() });
      if (m === 'POST') {
        const body = readJson(req);
        if (body instanceof Error) return problem(400, 'invalid_request', body.message);
        return ok(201, c.fault(body));
      }
      if (m === 'DELETE') {
        c.clearFaults();
        return ok(200, { faults: [] });
      }
      return notAllowed('GET, POST, DELETE');
    case '/clock':
      if (m === 'GET') return ok(200, c.clock());
      if (m === 'POST') {
        const body = readJson(req);
        if (body instanceof Error) return problem(400, 'invalid_request', body.message);
        const given = body as Record<string, unknown>;
        const keys = Object.keys(given);
        const valid = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_CLOCK_OFFSET_MS;
        if (keys.length === 1 && keys[0] === 'advanceMs' && valid(given.advanceMs) && valid(c.clock().offsetMs + (given.advanceMs as number))) c.advanceClock(given.advanceMs as number);
        else if (keys.length === 1 && keys[0] === 'offsetMs' && valid(given.offsetMs)) c.setClockOffset(given.offsetMs as number);
        else return problem(400, 'invalid_request', `give one of advanceMs or offsetMs, a whole number of ms; the offset stays within ±${MAX_CLOCK_OFFSET_MS}`);
        return ok(200, c.clock());
      }
      return notAllowed('GET, POST');
    case '/requests':
      if (m === 'GET') return ok(200, { requests: c.requests() });
      if (m === 'DELETE') {
        c.clearRequests();
        return ok(200, { requests: [] });
      }
      return notAllowed('GET, DELETE');
    case '/reset':
      if (m !== 'POST') return notAllowed('POST');
      await c.reset();
      return ok(200, c.overview());
  }
  const claimsOf = /^\/clients\/([^/]+)\/claims$/.exec(rest);
  if (claimsOf) {
    const client = decodeSegment(claimsOf[1]!);
    if (client === undefined) return problem(404, 'not_found', 'No such client.');
    if (m === 'GET') return found(await c.claims(client));
    if (m === 'PUT') {
      const body = readJson(req);
      if (body instanceof Error) return problem(400, 'invalid_request', `claims: ${body.message}`);
      return found(await c.setClaims(client, body));
    }
    return notAllowed('GET, PUT');
  }
  const one = /^\/faults\/([A-Za-z0-9]{1,32})$/.exec(rest);
  if (one) {
    if (m !== 'DELETE') return notAllowed('DELETE');
    return c.removeFault(one[1]!) ? ok(200, { faults: c.faults() }) : problem(404, 'not_found', 'No such fault.');
  }
  return problem(404, 'not_found', 'No such endpoint.');
}

const found = (claims: ClientClaims | undefined): HttpResponse => (claims ? ok(200, claims) : problem(404, 'not_found', 'No such client.'));

/** A path segment percent-decoded (a client id may hold any printable character); undefined if malformed. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function notAllowed(allow: string): HttpResponse {
  const res = problem(405, 'method_not_allowed', `This endpoint accepts only ${allow}.`);
  return { ...res, headers: { ...res.headers, Allow: allow } };
}

function readJson(req: HttpRequest): unknown {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return new Error('the body must be application/json');
  try {
    const value: unknown = JSON.parse(req.body.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return new Error('the body must be a JSON object');
    return value;
  } catch {
    return new Error('the body is not valid JSON');
  }
}
