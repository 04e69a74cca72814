/**
 * Typed configuration. Each option's flag, `KEYMINT_*` environment twin, meaning and default live in
 * one table (options.ts); a flag wins over the environment, which wins over the default. A bad value
 * fails at startup with a ConfigError naming the option.
 */
import { OPTION_TABLE, OPTIONS } from './options.ts';
import { ConfigError, type RawValue } from './parse.ts';
import type { Config } from './types.ts';

export { ConfigError } from './parse.ts';
export type { RawValue } from './parse.ts';
export { OPTIONS, OPTION_TABLE, defaultText, type Option } from './options.ts';
export { idTokenAlgs, SIGNING_ALGS, type Config, type DialectMount, type LogLevel, type SigningAlg } from './types.ts';

/** Option values by config key, as the CLI parses flags or as code passes them (numbers allowed). */
export type RawConfig = Partial<Record<keyof Config, RawValue>>;

/**
 * Reads flags (already keyed by option) over `KEYMINT_*` variables over defaults. With `fromCommandLine`
 * the flags are what the operator typed, and a bad value is named as typed (`--port: …`); a bad
 * variable is always named (`KEYMINT_PORT: …`), so one set and forgotten is found.
 */
export function loadConfig(flags: RawConfig, env: NodeJS.ProcessEnv = process.env, fromCommandLine = false): Config {
  const resolved: Record<string, unknown> = {};
  for (const { key, flag, env: name, envOnly } of OPTIONS) {
    const option = OPTION_TABLE[key];
    const fromEnv = env[name];
    let raw: RawValue | undefined = fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
    let label = raw === undefined ? undefined : name;
    if (!envOnly && flags[key] !== undefined) [raw, label] = [flags[key], fromCommandLine ? `--${flag}` : undefined];
    if (raw === undefined) [raw, label] = [typeof option.default === 'function' ? option.default(resolved as Partial<Config>) : option.default, undefined];
    try {
      resolved[key] = raw === undefined ? undefined : option.parse(raw, key, resolved as Partial<Config>);
    } catch (err) {
      if (err instanceof ConfigError && err.key === key && label !== undefined) throw new ConfigError(key, err.reason, label);
      throw err;
    }
  }
  return resolved as unknown as Config;
}

/**
 * The config of a server that was asked for port 0, once it knows the port it bound: a default
 * issuer (`http://localhost:0`) and an audience that followed it name the real port.
 */
export function withBoundPort(config: Config, port: number): Config {
  const issuer = new URL(config.issuer);
  if (config.port !== 0 || issuer.port !== '0') return config;
  issuer.port = String(port);
  const bound = issuer.href.replace(/\/+$/, '');
  return { ...config, issuer: bound, audience: config.audience === config.issuer ? bound : config.audience };
}

/**
 * Where clients reach the mutual-TLS listener (`mtls_endpoint_aliases`), once its port is bound:
 * `--mtls-url`, or the issuer with https and that port. Unchanged without `--mtls-port`.
 */
export function withMtlsUrl(config: Config, port: number | undefined): Config {
  if (config.mtlsPort === undefined || port === undefined || config.mtlsUrl !== undefined) return config;
  const url = new URL(config.issuer);
  url.protocol = 'https:';
  url.port = String(port);
  return { ...config, mtlsUrl: url.href.replace(/\/+$/, '') };
}
