/** The one error of the sandbox's inputs (options, faults, control API bodies): the field at fault and what is wrong. */
import { fieldName, type FieldPath } from '../config/file.ts';

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
