/** The slice of `autocannon` (which ships no types) that bench/autocannon-runner.ts and bench/signed-load.ts use. */
declare module 'autocannon' {
  interface RequestSpec {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }
  interface Options {
    url: string;
    method: string;
    headers: Record<string, string>;
    body?: string;
    connections: number;
    duration: number;
    timeout: number;
    /** Each request built anew: `setupRequest` runs before every send. */
    requests?: Array<{ setupRequest?: (req: RequestSpec) => RequestSpec }>;
  }
  interface Result {
    '2xx': number;
    non2xx: number;
    errors: number;
    timeouts: number;
    duration: number;
    latency: { p50: number; p90: number; p99: number; p99_9: number; max: number };
    statusCodeStats: Record<string, { count: number }>;
  }
  export default function autocannon(options: Options): Promise<Result>;
}
