// Consent per contact channel. Only explicit choices are stored; the defaults below apply
// to every channel nobody has set, so changing a default reaches every customer.

export const CONSENT_CHANNELS = ['email', 'phone', 'whatsapp', 'sms'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

export const CONSENT_STATUSES = ['opted_in', 'opted_out'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/**
 * Defaults: post-sale email and calls about a purchase the customer made are a legitimate
 * interest (LGPD art. 7 IX, GDPR's soft opt-in), with an opt-out in every email, so they
 * start opted in; WhatsApp and SMS need an explicit opt-in (WhatsApp Business policy), so
 * they start opted out.
 */
export const CONSENT_DEFAULTS: Readonly<Record<ConsentChannel, ConsentStatus>> = {
  email: 'opted_in',
  phone: 'opted_in',
  whatsapp: 'opted_out',
  sms: 'opted_out',
};

/** A stored choice: who set it and when. */
export interface StoredConsent {
  readonly status: ConsentStatus;
  readonly source: string;
  readonly updated_at: string;
}

export interface EffectiveConsent {
  readonly status: ConsentStatus;
  /** `default`, `api` (PUT …/consent/{channel}) or `unsubscribe` (an email's unsubscribe link). */
  readonly source: string;
  readonly updated_at: string | null;
}

/** The consent of every channel: the stored choice, else the default. */
export function effectiveConsent(
  stored: Readonly<Record<string, unknown>>,
): Record<ConsentChannel, EffectiveConsent> {
  const out = {} as Record<ConsentChannel, EffectiveConsent>;
  for (const channel of CONSENT_CHANNELS) {
    const choice = stored[channel] as StoredConsent | undefined;
    out[channel] = choice
      ? { status: choice.status, source: choice.source, updated_at: choice.updated_at }
      : { status: CONSENT_DEFAULTS[channel], source: 'default', updated_at: null };
  }
  return out;
}
