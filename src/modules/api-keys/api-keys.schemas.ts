import Type from 'typebox';
import { SCOPES } from '../../http/auth.js';
import { Timestamp } from '../../http/schemas.js';

export const ScopeSchema = Type.Enum(SCOPES, {
  description: '`admin` (everything), `events:write` (post events), `read` (read data and metrics).',
});

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, examples: ['checkout integration'] }),
    scopes: Type.Array(ScopeSchema, {
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
      examples: [['events:write']],
    }),
  },
  { additionalProperties: false },
);

export const ApiKey = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  key_hint: Type.String({ description: 'The first and last characters of the key, to tell keys apart.' }),
  managed: Type.Boolean({ description: 'True for the key provisioned from POSVENDA_ADMIN_KEY.' }),
  created_at: Timestamp,
  last_used_at: Type.Union([Timestamp, Type.Null()], { description: 'Updated at most once an hour.' }),
});

export const CreatedApiKey = Type.Intersect([
  ApiKey,
  Type.Object({ key: Type.String({ description: 'The API key. Shown once: store it now.' }) }),
]);
