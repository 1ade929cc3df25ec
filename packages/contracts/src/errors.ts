/** Thrown for a value that cannot become a subject token, an invalid prefix, or an invalid payload. */
export class ContractError extends Error {
  readonly code: ContractErrorCode;
  /** Readable problems (path + message) when the error is about a payload. */
  readonly problems: readonly string[];

  constructor(code: ContractErrorCode, message: string, options?: { cause?: unknown; problems?: readonly string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ContractError';
    this.code = code;
    this.problems = Object.freeze([...(options?.problems ?? [])]);
  }
}

export const CONTRACT_ERROR = {
  token: 'SIPNATS_ERR_TOKEN',
  prefix: 'SIPNATS_ERR_PREFIX',
  invalid: 'SIPNATS_ERR_PAYLOAD',
  base64: 'SIPNATS_ERR_BASE64',
} as const;
export type ContractErrorCode = (typeof CONTRACT_ERROR)[keyof typeof CONTRACT_ERROR];
