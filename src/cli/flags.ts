/** Parsed command-line flags, as every command receives them (declared in command.ts). */
export type { Flags } from './command.ts';
