/** Parsed command-line flags, as every command receives them. */
export type Flags = Record<string, string | boolean | string[] | undefined>;
