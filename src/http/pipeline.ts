/**
 * The one pipeline every endpoint a dialect mounts runs through:
 *
 *   decode → limits (address bucket, lockout; failures counted) → before → operation → after → encode
 *
 * Any throw becomes an `OAuthError` (unknown ones a generic `server_error`, logged with their cause)
 * answered in the dialect's own shape. Time comes from the injected `now()`, read once per request.
 * `before` and `after` interceptors are empty in production; the sandbox fills them (scripted
 * faults, latency, clock offset). Observers hear every outcome (metrics, traffic charts).
 */
import { andThen, recover, type Maybe } from '../util/maybe.ts';
import type { ClientIp } from '../limits/client-ip.ts';
import { guarded } from '../limits/guard.ts';
import type { RequestLimiter } from '../limits/limiter.ts';
import type { Logger } from '../util/log.ts';
import { toOAuthError, type OAuthError } from '../wire/errors.ts';
import type { HttpRequest, HttpResponse } from '../wire/http.ts';
import type { Handler } from './router.ts';

/** One endpoint's work, between the wire codec and the limits. */
export interface Operation<In, Out> {
  /** `token`, `introspect`, `revoke`, `revocations`, …: the endpoint's name in metrics and interceptors. */
  readonly name: string;
  /** Wire → input; throws OAuthError for anything malformed (answered after the address limit). */
  decode(req: HttpRequest): In;
  /** What the request presents, before anything is checked: the client id keys the lockout. */
  presented(input: In): { readonly clientId: string | undefined; readonly grant?: string | undefined };
  /** `tokenTtl`: the access-token lifetime an interceptor set for this request (seconds), if any. */
  run(input: In, now: number, tokenTtl?: number): Maybe<Out>;
  encode(output: Out, req: HttpRequest): HttpResponse;
}

/** What interceptors and observers learn about a request. */
export interface EndpointCall {
  readonly dialect: string;
  readonly endpoint: string;
  readonly req: HttpRequest;
  /** The client id the request presents (not yet authenticated), if any. */
  readonly clientId: string | undefined;
  readonly grant: string | undefined;
  readonly now: number;
  /**
   * Set by a `before` interceptor: the lifetime in seconds of the access token this request is
   * issued, instead of the client's (the sandbox's short-TTL fault).
   */
  tokenTtl?: number;
}

export interface Interceptor {
  /** Runs after the limits, before the operation: may throw an OAuthError or return an answer instead. */
  before?(call: EndpointCall): Promise<HttpResponse | undefined> | HttpResponse | undefined;
  /** Sees, and may replace, every answer (successes and errors alike). */
  after?(call: EndpointCall, res: HttpResponse): Promise<HttpResponse> | HttpResponse;
}

export interface Outcome extends EndpointCall {
  readonly status: number;
  /** `ok`, or the canonical error code. */
  readonly result: string;
  readonly error: OAuthError | undefined;
  readonly ms: number;
}

export interface PipelineContext {
  readonly limiter?: RequestLimiter;
  readonly clientIp: ClientIp;
  readonly now: () => number;
  readonly interceptors: readonly Interceptor[];
  readonly observers: ReadonlyArray<(outcome: Outcome) => void>;
  readonly log: Logger;
}

/** The dialect side of the pipeline: its name and its one error encoder. */
export interface ErrorShape {
  readonly name: string;
  encodeError(err: OAuthError, req: HttpRequest): HttpResponse;
}

/**
 * A request that nothing makes wait (no interceptors, the local limiter, a cached client, a token
 * that is not stored) is answered at once, without a promise (src/util/maybe.ts).
 */
export function pipeline<In, Out>(dialect: ErrorShape, op: Operation<In, Out>, ctx: PipelineContext): Handler {
  return (req) => {
    const started = performance.now();
    const now = ctx.now();
    let input: In | undefined;
    let invalid: unknown;
    try {
      input = op.decode(req);
    } catch (err) {
      invalid = err;
    }
    const presented = input === undefined ? undefined : op.presented(input);
    const call: EndpointCall = { dialect: dialect.name, endpoint: op.name, req, clientId: presented?.clientId, grant: presented?.grant, now };
    const operate = (decoded: In): Maybe<HttpResponse> => andThen(op.run(decoded, now, call.tokenTtl), (output) => op.encode(output, req));
    let error: OAuthError | undefined;
    const answer = recover(
      // An undecodable request still spends a token of its address before it is refused.
      () =>
        guarded(ctx.limiter, ctx.clientIp(req), call.clientId, () => {
          if (input === undefined) throw invalid;
          const decoded = input;
          return ctx.interceptors.length === 0 ? operate(decoded) : before(ctx.interceptors, call, () => operate(decoded));
        }),
      (thrown) => {
        error = toOAuthError(thrown);
        if (error.status >= 500) ctx.log.error('request failed', { dialect: dialect.name, endpoint: op.name, code: error.code, err: error.cause ?? thrown });
        return dialect.encodeError(error, req);
      },
    );
    const observed = (res: HttpResponse): HttpResponse => {
      if (ctx.observers.length > 0) {
        const outcome: Outcome = { ...call, status: res.status, result: error?.code ?? 'ok', error, ms: performance.now() - started };
        for (const observe of ctx.observers) observe(outcome);
      }
      return res;
    };
    return andThen(ctx.interceptors.length === 0 ? answer : after(ctx.interceptors, call, answer), observed);
  };
}

/** The `before` interceptors in order: the first answer stands for the operation's. */
async function before(interceptors: readonly Interceptor[], call: EndpointCall, operate: () => Maybe<HttpResponse>): Promise<HttpResponse> {
  for (const i of interceptors) {
    const answer = await i.before?.(call);
    if (answer !== undefined) return answer;
  }
  return operate();
}

/** The `after` interceptors in order, each seeing the answer the previous one left. */
async function after(interceptors: readonly Interceptor[], call: EndpointCall, answer: Maybe<HttpResponse>): Promise<HttpResponse> {
  let res = await answer;
  for (const i of interceptors) if (i.after) res = await i.after(call, res);
  return res;
}
