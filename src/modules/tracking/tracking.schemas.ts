import Type from 'typebox';

export const TokenParams = Type.Object(
  {
    token: Type.String({
      minLength: 1,
      maxLength: 8192,
      description: 'The signed token of the link, as put in the email (base64url payload and MAC).',
      examples: ['WyJvIiwiMDE5YTlhNmUtLi4uIl0.q1w2e3r4t5y6u7i8o9p0aa'],
    }),
  },
  { additionalProperties: false },
);

export const SurveyQuery = Type.Object(
  {
    score: Type.Integer({
      minimum: 0,
      maximum: 10,
      description:
        "The answer. The touchpoint's survey sets the range: NPS 0–10, CES 1–7, CSAT 1–5 (the survey " +
        'is read from the template key or its family: `nps`, `ces` or `csat` as a word of it).',
      examples: [9],
    }),
  },
  { additionalProperties: false, examples: [{ score: 9 }] },
);

/** RFC 8058: what a mail client posts for a one-click unsubscribe. Any body, or none, is accepted. */
export const OneClickBody = Type.Object(
  {
    'List-Unsubscribe': Type.Optional(Type.Literal('One-Click')),
  },
  { examples: [{ 'List-Unsubscribe': 'One-Click' }] },
);

/** An HTML page for a person in a browser. */
export const htmlPage = (description: string) => ({
  description,
  content: { 'text/html': { schema: Type.String() } },
});

/**
 * An error: problem+json, or for a browser (Accept names text/html) a small page with the
 * same status, since these links are followed by people rather than programs.
 */
export const problemOrPage = (description: string) => ({
  description,
  content: {
    'application/problem+json': { schema: Type.Ref('Problem') },
    'text/html': { schema: Type.String() },
  },
});
