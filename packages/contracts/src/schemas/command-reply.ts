import { Type, type Static } from '@sinclair/typebox';
import { LIMITS, literals, version } from './common.js';

/** Error codes of a failed command. */
export const REPLY_CODES = ['INVALID', 'NOT_FOUND', 'CONFLICT', 'BAD_STATE', 'TIMEOUT', 'INTERNAL'] as const;
export type ReplyCode = (typeof REPLY_CODES)[number];
export const REPLY_CODE = {
  INVALID: 'INVALID',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  BAD_STATE: 'BAD_STATE',
  TIMEOUT: 'TIMEOUT',
  INTERNAL: 'INTERNAL',
} as const satisfies Record<ReplyCode, ReplyCode>;

/** ua → controller: the reply to a CallCommand. */
export const CommandReply = Type.Object(
  {
    v: version(),
    ok: Type.Boolean({ description: 'True when the command was accepted and carried out (or started, for originate/bridge).' }),
    call: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.token, description: 'The call the command was for.' })),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 699, description: 'SIP status involved (e.g. the response sent).' })),
    code: Type.Optional(
      literals(
        REPLY_CODES,
        'Why it failed: INVALID (payload or subject), NOT_FOUND (no such call), CONFLICT (call id in use or concurrent update), BAD_STATE (not allowed in the call state), TIMEOUT, INTERNAL.',
      ),
    ),
    error: Type.Optional(Type.String({ maxLength: LIMITS.text, description: 'Readable error message.' })),
  },
  { $id: 'CommandReply', additionalProperties: false, description: 'Reply to a call command.' },
);
export type CommandReply = Static<typeof CommandReply>;
