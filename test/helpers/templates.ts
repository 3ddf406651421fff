/** A two-variant email template document (weights 1:3) for tests. */
export const emailTemplate = (key: string, overrides: Record<string, unknown> = {}) => ({
  key,
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  variants: [
    { key: 'a', weight: 1, subject: 'Oi, {{ customer.first_name }}!', html: '<p>{{ customer.name }}</p>' },
    { key: 'b', weight: 3, subject: 'Olá, {{ customer.first_name }}!', text: 'Total: {{ 3500 | money }}' },
  ],
  ...overrides,
});
