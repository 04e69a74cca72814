/**
 * Shared pieces of the dialect suites: the one server layout they all run against, request
 * helpers, and `expectAnswer`, which asserts status, headers and exact body and validates the body
 * against the dialect's JSON Schema (test/dialects/schemas/<name>.json, written from the seed) and
 * against the codec's own contract (what the OpenAPI document publishes).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DIALECTS } from '../../../src/dialects/index.ts';
import type { HttpRequest, HttpResponse } from '../../../src/wire/http.ts';
import { newClientSecret } from '../../../src/credentials/secrets.ts';
import { randomBase62 } from '../../../src/tokens/random.ts';
import { validate } from './json-schema.ts';

export const ALL_DIALECTS = ['oauth2', 'polygon-oms', 'orum', 'fuuffy', 'tradevest=/connect/token'];

export const PATHS = {
  oauth2: '/oauth2/token',
  'polygon-oms': '/v0.9/auth/token',
  orum: '/oauth/token',
  fuuffy: '/v1/auth/token',
  tradevest: '/connect/token',
} as const;

export type DialectName = keyof typeof PATHS;

/** A well-formed id and secret of this deployment that no client holds. */
export const unknownClient = () => ({ id: `sk_live_${randomBase62(24)}`, secret: newClientSecret() });

export const schemaOf = (name: string): { $defs: Record<"success" | "error", Record<string, unknown>> } =>
  JSON.parse(readFileSync(new URL(`../schemas/${name}.json`, import.meta.url), 'utf8')) as { $defs: Record<"success" | "error", Record<string, unknown>> };

export function postJson(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export function postRaw(base: string, path: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(base + path, { method: 'POST', headers, body });
}

export interface Expected {
  readonly status: number;
  /** The exact body; omit to only validate it (a success whose token varies). */
  readonly body?: unknown;
  /** Headers beyond Content-Type, Cache-Control and Pragma that must be present with these values. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Checks one answer completely; resolves to the parsed body and its raw text. */
export async function expectAnswer(dialect: DialectName, res: Response, expected: Expected): Promise<{ body: Record<string, any>; text: string }> {
  const text = await res.text();
  assert.equal(res.status, expected.status, `status (body ${text})`);
  const headers = Object.fromEntries(res.headers);
  checkHeaders(headers, expected);
  const body = JSON.parse(text) as Record<string, any>;
  if (expected.body !== undefined) assert.deepEqual(body, expected.body);
  checkSchemas(dialect, expected.status, body);
  return { body, text };
}

/** The same checks on an answer built by the codec directly (statuses a live server cannot be driven to yet). */
export function expectEncoded(dialect: DialectName, res: HttpResponse, expected: Expected): Record<string, any> {
  assert.equal(res.status, expected.status);
  checkHeaders(Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), v])), expected);
  const body = JSON.parse(String(res.body)) as Record<string, any>;
  if (expected.body !== undefined) assert.deepEqual(body, expected.body);
  checkSchemas(dialect, expected.status, body);
  return body;
}

function checkHeaders(headers: Record<string, string>, expected: Expected): void {
  assert.equal(headers['content-type'], 'application/json;charset=UTF-8');
  assert.equal(headers['cache-control'], 'no-store');
  assert.equal(headers.pragma, 'no-cache');
  for (const [name, value] of Object.entries(expected.headers ?? {})) assert.equal(headers[name.toLowerCase()], value, `header ${name}`);
  if (expected.status === 429 || expected.status === 503) assert.match(headers['retry-after'] ?? '', /^[1-9]\d*$/, 'Retry-After');
  else assert.equal(headers['retry-after'], undefined, 'no Retry-After');
  if (expected.status === 405) assert.equal(headers.allow ?? 'POST', 'POST');
}

function checkSchemas(dialect: DialectName, status: number, body: unknown): void {
  const kind = status === 200 ? 'success' : 'error';
  assert.deepEqual(validate(schemaOf(dialect).$defs[kind], body), [], `seed schema (${kind})`);
  const contract = DIALECTS.get(dialect)!.contract;
  assert.deepEqual(validate(kind === 'success' ? contract.success : contract.error, body), [], `contract schema (${kind})`);
}

/** A request as the HTTP layer hands it to a codec, for unit-testing encodeError. */
export const fakeRequest = (headers: Record<string, string> = {}): HttpRequest => ({
  method: 'POST',
  path: '/',
  query: '',
  headers,
  headersDistinct: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
  rawHeaders: Object.entries(headers).flat(),
  body: Buffer.alloc(0),
  ip: '127.0.0.1',
});
