import type { TemplateDocument } from '../template-document.js';
import { email, hello, linkParagraph, shopLink } from './common.js';

// The Premium upgrade offer: at D+90 for engaged customers and when usage reaches 80 % of the
// plan ("Um cliente que usa 80% da capacidade do plano atual recebe um e-mail com um desconto
// para o plano Premium, acompanhado de um vídeo demonstrativo"). Two variants to A/B test:
// the discount first, or the result first (the seed's "case de uso semelhante").
const capacityPt =
  '{% if usage %}Você já está usando <strong>{{ usage.percent | percent }}</strong> da capacidade do seu plano' +
  '{% if customer.attributes.plan != blank %} {{ customer.attributes.plan }}{% endif %} — ' +
  'sinal de que o negócio está crescendo (que bom!).' +
  '{% else %}Nesses três meses você usou bastante os nossos serviços — sinal de que o negócio está ' +
  'crescendo (que bom!).{% endif %}';

const offerPt =
  'Para quem chegou nesse ponto, o <strong>plano Premium</strong> libera mais capacidade, relatórios avançados ' +
  'e atendimento prioritário. E para você, preparamos <strong>{{ customer.attributes.upgrade_discount | ' +
  'default: 20 }}% de desconto</strong> nos três primeiros meses.';

const demoPt = linkParagraph('premium_demo', 'Veja em 2 minutos o que muda no Premium');
const plansPt = shopLink('plans', 'Quero conhecer o Premium', 'Quer saber mais? É só responder este e-mail');

export const upgradeOffer: TemplateDocument = {
  key: 'upgrade-offer',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Oferta de upgrade para o Premium (D+90 e 80% do plano)',
  description:
    'Upsell com desconto. Variante a: desconto primeiro; variante b: resultado de um cliente parecido.',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject:
        '{{ customer.first_name | default: "Oi" }}, {{ customer.attributes.upgrade_discount | default: 20 }}% ' +
        'de desconto para você ir para o Premium',
      html: email(
        'pt',
        [hello('Oi'), capacityPt, offerPt, demoPt, `${plansPt}. A oferta vale por 15 dias.`],
        'Abraço,<br>Equipe {{ workspace.name }}',
      ),
    },
    {
      key: 'b',
      weight: 1,
      subject: 'Como negócios parecidos com o seu cresceram com o Premium',
      html: email(
        'pt',
        [
          hello('Oi'),
          capacityPt,
          'Clientes que estavam no mesmo momento que você e passaram para o Premium ganharam tempo com os ' +
            'relatórios avançados e deixaram de esbarrar no limite do plano justamente quando as vendas ' +
            'aumentaram.',
          offerPt,
          demoPt,
          `${plansPt}. A oferta vale por 15 dias.`,
        ],
        'Abraço,<br>Equipe {{ workspace.name }}',
      ),
    },
  ],
};

export const upgradeOfferEn: TemplateDocument = {
  key: 'upgrade-offer-en',
  channel: 'email',
  locale: 'en',
  tone: 'informal',
  family: 'upgrade-offer',
  name: 'Premium upgrade offer (D+90 and 80 % of plan)',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: '{{ customer.attributes.upgrade_discount | default: 20 }}% off to move up to Premium',
      html: email(
        'en',
        [
          hello('Hi'),
          "{% if usage %}You're already using <strong>{{ usage.percent | percent }}</strong> of your plan's " +
            'capacity — a sign your business is growing.{% else %}You have used {{ workspace.name }} a lot ' +
            'over these three months — a sign your business is growing.{% endif %}',
          'The <strong>Premium plan</strong> gives you more capacity, advanced reports and priority support. ' +
            'For you, we have <strong>{{ customer.attributes.upgrade_discount | default: 20 }}% off</strong> ' +
            'the first three months.',
          linkParagraph('premium_demo', 'See what changes with Premium in 2 minutes'),
          `${shopLink('plans', 'Check out Premium', 'Want to know more? Just reply to this email')}. ` +
            'The offer is valid for 15 days.',
        ],
        'Best,<br>The {{ workspace.name }} team',
      ),
    },
  ],
};

// A touchpoint for the shop's CRM: a webhook step posts this as the `content` of touchpoint.due.
export const crmSync: TemplateDocument = {
  key: 'crm-sync',
  channel: 'webhook',
  locale: 'pt-BR',
  tone: 'formal',
  name: 'Sincronização com o CRM',
  description: 'Payload JSON para o CRM; strings com um único {{ … }} mantêm o tipo (número, objeto).',
  variants: [
    {
      key: 'a',
      weight: 1,
      payload: {
        source: 'posvenda',
        customer: {
          external_id: '{{ customer.id }}',
          name: '{{ customer.name }}',
          email: '{{ customer.email }}',
          phone: '{{ customer.phone }}',
          segment: '{{ customer.segment }}',
        },
        event: {
          type: '{{ event.type }}',
          occurred_at: '{{ event.occurred_at }}',
          order_id: '{{ event.properties.order_id }}',
          amount: '{{ event.properties.amount }}',
          amount_label: '{{ event.properties.amount | money: event.properties.currency }}',
        },
        note: 'Pós-venda: {{ event.type | default: "acompanhamento" }} de {{ customer.name | default: customer.id }}',
      },
    },
  ],
};
