/** The slice of `oidc-provider` (which ships no types) that bench/oidc-provider-server.ts uses. */
declare module 'oidc-provider' {
  import type { Server } from 'node:http';

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number, host: string): Server;
  }
}
