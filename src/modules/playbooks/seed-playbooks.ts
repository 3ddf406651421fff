import type { PlaybookBody, StepDocument } from './playbook-document.js';

// The seed article's calendar as playbooks, installed in every new workspace. Times are the
// customer's local time; "larger accounts" get a call from a person, smaller ones an email,
// as the article recommends. Every playbook ends at once on a cancellation.

const LARGER_ACCOUNT = { in: [{ var: 'customer.segment' }, ['enterprise', 'mid_market', 'large']] };
const SMALLER_ACCOUNT = { '!': LARGER_ACCOUNT };
/** "Only for customers engaged by then": decided when the step is due, on the health score. */
const ENGAGED_AND_NOT_PREMIUM = {
  and: [
    { '>=': [{ var: 'customer.health_score' }, 60] },
    { '!=': [{ var: 'customer.attributes.plan' }, 'premium'] },
  ],
};
const ENDS_ON_CANCELLATION = [{ event: 'cancellation' }];

/** The check-in: a call task for larger accounts, an email for smaller ones, as the seed recommends. */
function checkinSteps(after: string): StepDocument[] {
  const common = { after, at: '10:00', business_days: true } as const;
  return [
    {
      key: 'checkin-call',
      channel: 'task',
      task: { kind: 'call' },
      template: 'checkin-call',
      when: LARGER_ACCOUNT,
      ...common,
    },
    { key: 'checkin-email', channel: 'email', template: 'checkin', when: SMALLER_ACCOUNT, ...common },
  ];
}

export interface SeedPlaybook extends PlaybookBody {
  readonly key: string;
}

export const PLAYBOOK_LIBRARY: readonly SeedPlaybook[] = [
  {
    key: 'onboarding',
    name: 'Onboarding — 90 dias após a entrega',
    description:
      'D+3 boas-vindas, D+10 check-in (ligação para contas maiores, e-mail para as menores), D+30 dicas de uso, ' +
      'D+60 pesquisa NPS, D+90 oferta de upgrade só para clientes engajados.',
    enabled: true,
    trigger: { event: 'delivery' },
    reentry: 'never',
    exit_on: ENDS_ON_CANCELLATION,
    steps: [
      {
        key: 'welcome',
        after: 'P3D',
        channel: 'email',
        template: 'welcome',
        at: '10:00',
        business_days: true,
      },
      ...checkinSteps('P10D'),
      {
        key: 'usage-tips',
        after: 'P30D',
        channel: 'email',
        template: 'usage-tips',
        at: '10:00',
        business_days: true,
      },
      {
        key: 'nps',
        after: 'P60D',
        channel: 'email',
        template: 'nps-survey',
        at: '10:00',
        business_days: true,
      },
      {
        key: 'upgrade-offer',
        after: 'P90D',
        channel: 'email',
        template: 'upgrade-offer',
        at: '10:00',
        business_days: true,
        send_if: ENGAGED_AND_NOT_PREMIUM,
      },
    ],
  },
  {
    key: 'purchase-calendar',
    name: 'Calendário pós-compra — 7, 30, 90 e 180 dias',
    description:
      'Para lojas sem evento de entrega: D+7 check-in, D+30 educação de uso, D+90 NPS, D+180 oferta de upgrade. ' +
      'Vem desligado para não duplicar o onboarding; ligue um ou outro.',
    enabled: false,
    trigger: { event: 'purchase' },
    reentry: { after: 'P180D' },
    exit_on: ENDS_ON_CANCELLATION,
    steps: [
      ...checkinSteps('P7D'),
      {
        key: 'usage-tips',
        after: 'P30D',
        channel: 'email',
        template: 'usage-tips',
        at: '10:00',
        business_days: true,
      },
      {
        key: 'nps',
        after: 'P90D',
        channel: 'email',
        template: 'nps-survey',
        at: '10:00',
        business_days: true,
      },
      {
        key: 'upgrade-offer',
        after: 'P180D',
        channel: 'email',
        template: 'upgrade-offer',
        at: '10:00',
        business_days: true,
        send_if: ENGAGED_AND_NOT_PREMIUM,
      },
    ],
  },
  {
    key: 'reengagement',
    name: 'Reengajamento — 15 dias sem atividade',
    description:
      'Depois de 15 dias sem atividade: e-mail de reengajamento; 3 dias úteis depois, se ainda inativo, uma ligação ' +
      'do suporte. Qualquer atividade nova encerra e recomeça a contagem.',
    enabled: true,
    trigger: { inactivity: { days: 15 } },
    reentry: 'always',
    exit_on: [
      ...['activity', 'first_use', 'usage', 'purchase', 'delivery'].map((event) => ({ event })),
      ...ENDS_ON_CANCELLATION,
    ],
    steps: [
      {
        key: 'email',
        after: 'PT0S',
        channel: 'email',
        template: 'reengagement',
        at: '10:00',
        business_days: true,
      },
      {
        key: 'support-call',
        after: 'P3D',
        channel: 'task',
        task: { kind: 'call' },
        template: 'reengagement-call',
        at: '10:00',
        business_days: true,
      },
    ],
  },
  {
    key: 'upgrade-at-80',
    name: 'Upgrade ao atingir 80% do plano',
    description:
      'Quando o uso chega a 80% da capacidade do plano (evento usage com metric "capacity"), oferta do plano Premium ' +
      'com desconto. No máximo uma vez a cada 90 dias.',
    enabled: true,
    trigger: { usage: { metric: 'capacity', at_least: 0.8 } },
    reentry: { after: 'P90D' },
    exit_on: [
      { event: 'purchase', when: { '==': [{ var: 'event.properties.plan' }, 'premium'] } },
      ...ENDS_ON_CANCELLATION,
    ],
    steps: [
      {
        key: 'offer',
        after: 'PT1H',
        channel: 'email',
        template: 'upgrade-offer',
        at: '10:00',
        business_days: true,
      },
    ],
  },
  {
    key: 'detractor-followup',
    name: 'Detratores — ligação em até 1 dia útil',
    description:
      'Resposta NPS de 0 a 6: tarefa de ligação com o roteiro de escalonamento no próximo dia útil.',
    enabled: true,
    trigger: {
      event: 'survey_response',
      when: {
        and: [
          { '==': [{ var: 'event.properties.survey' }, 'nps'] },
          { '<=': [{ var: 'event.properties.score' }, 6] },
        ],
      },
    },
    reentry: 'always',
    exit_on: ENDS_ON_CANCELLATION,
    steps: [
      {
        key: 'escalation-call',
        after: 'P1D',
        channel: 'task',
        task: { kind: 'call' },
        template: 'escalation-call',
        business_days: true,
      },
    ],
  },
  {
    key: 'support-satisfaction',
    name: 'Satisfação após atendimento (CSAT)',
    description: 'Duas horas depois de um chamado resolvido, a pesquisa CSAT. No máximo uma a cada 30 dias.',
    enabled: true,
    trigger: { event: 'support_ticket.resolved' },
    reentry: { after: 'P30D' },
    exit_on: ENDS_ON_CANCELLATION,
    steps: [{ key: 'csat', after: 'PT2H', channel: 'email', template: 'csat-survey' }],
  },
];
