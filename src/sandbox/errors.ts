/** The one error of the sandbox's inputs (options, faults, control API bodies): the field at fault and what is wrong. */
import type { FieldPath } from '../config/schema-check.ts';

/**
 * `clients.billing.scopes[1]`, as the configuration file's errors spell a field (config/file.ts;
 * not imported from there, which would load the YAML parser into every test process).
 */
export function fieldName(field: FieldPath): string {
  return field
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$-]*$/.test(k) ? `${i === 0 ? '' : '.'}${k}` : `[${JSON.stringify(k)}]`))
    .join('');
}

export class SandboxInputError extends Error {
  /** Where, as keys and indexes from the root of the options (`['sandbox', 'faults', 0, 'status']`). */
  readonly path: FieldPath;
  /** The same as text: `sandbox.faults[0].status`. */
  readonly field: string;
  /** What is wrong, without the field. */
  readonly problem: string;
  constructor(path: FieldPath, problem: string) {
    super(path.length === 0 ? problem : `${fieldName(path)}: ${problem}`);
    this.name = 'SandboxInputError';
    this.path = path;
    this.field = fieldName(path);
    this.problem = problem;
  }
}
