import type { TemplateDocument } from '../template-document.js';
import { email, hello, shopLink } from './common.js';

// Re-engagement after inactivity ("Quando um cliente não acessa a plataforma por 15 dias, o
// sistema dispara automaticamente um e-mail de reengajamento, seguido por um convite para uma
// call de suporte"): the email, then the support-call script.
export const reengagement: TemplateDocument = {
  key: 'reengagement',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Reengajamento após inatividade',
  description: 'Para quem parou de usar: pergunta o que houve e oferece ajuda, sem cobrança.',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject:
        'Sentimos sua falta{% if customer.first_name != blank %}, {{ customer.first_name }}{% endif %}',
      html: email(
        'pt',
        [
          hello('Oi'),
          'Notamos que faz {{ event.properties.days | default: "alguns" }} dias que você não passa por aqui. ' +
            'Está tudo bem?',
          'Se alguma coisa travou — uma configuração, uma dúvida, falta de tempo para aprender — a gente ' +
            'resolve junto. Que tal uma conversa de 15 minutos com alguém do nosso time, sem compromisso?',
          `${shopLink('schedule', 'Escolha um horário na nossa agenda', 'É só responder este e-mail com o melhor horário para você')}.`,
          'E se a gente não fizer mais sentido para você agora, conta o motivo? ' + 'Isso ajuda muito.',
        ],
        'Abraço,<br>Equipe {{ workspace.name }}',
      ),
    },
  ],
};

export const reengagementEn: TemplateDocument = {
  key: 'reengagement-en',
  channel: 'email',
  locale: 'en',
  tone: 'informal',
  family: 'reengagement',
  name: 'Re-engagement after inactivity',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'We miss you{% if customer.first_name != blank %}, {{ customer.first_name }}{% endif %}',
      html: email(
        'en',
        [
          hello('Hi'),
          "We noticed you haven't been around for {{ event.properties.days | default: 'a few' }} days. " +
            'Is everything OK?',
          'If something got in the way — a setting, a question, no time to learn — we can sort it out ' +
            'together. How about a 15-minute call with someone from our team, no strings attached?',
          `${shopLink('schedule', 'Pick a time in our calendar', 'Just reply with a time that works for you')}.`,
          "And if {{ workspace.name }} isn't right for you right now, would you tell us why? It really helps.",
        ],
        'Best,<br>The {{ workspace.name }} team',
      ),
    },
  ],
};

export const reengagementCall: TemplateDocument = {
  key: 'reengagement-call',
  channel: 'task',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Ligação de suporte para reengajamento',
  variants: [
    {
      key: 'a',
      weight: 1,
      script: {
        kind: 'call',
        title:
          'Reengajar {{ customer.name | default: customer.id }} ({{ event.properties.days | default: 15 }} dias sem uso)',
        opening:
          'Oi{% if customer.first_name != blank %}, {{ customer.first_name }}{% endif %}, tudo bem? Aqui é da equipe ' +
          '{{ workspace.name }}. Estou ligando porque faz um tempinho que você não usa a plataforma e quis ' +
          'saber se está tudo certo ou se posso ajudar em algo.',
        diagnosis: [
          'O que fez você dar uma pausa? Foi tempo, alguma dificuldade ou mudou algo no negócio?',
          'Teve alguma parte que ficou confusa ou não funcionou como você esperava?',
          'O que precisaria acontecer para valer a pena voltar a usar no dia a dia?',
        ],
        value_proposal:
          'Posso fazer com você agora, ou num horário marcado, uma sessão de 15 minutos para resolver o que ' +
          'travou e deixar tudo configurado do jeito que o seu negócio precisa.',
        call_to_action: 'Vamos marcar essa sessão? Qual o melhor dia e horário?',
        objections: [
          {
            objection: 'Estou pensando em cancelar.',
            answer:
              'Obrigado por ser sincero. Antes de decidir, posso entender o motivo? Se for algo que dá para ' +
              'resolver, a gente resolve; se não for, te ajudo com o que precisar.',
          },
          {
            objection: 'Não tenho tempo para aprender.',
            answer:
              'Entendo demais. Por isso a sessão é curta e a gente configura junto: a ideia é te poupar tempo, ' +
              'não tomar.',
          },
          {
            objection: 'Achei caro para o quanto uso.',
            answer:
              'Faz sentido olhar isso. Vamos ver juntos se existe um plano mais adequado ao seu uso hoje?',
          },
        ],
        escalation:
          'Se o cliente pedir cancelamento, reclamar de cobrança ou relatar um defeito: não insista. Registre o ' +
          'motivo, marque o resultado como "escalated" e passe ao responsável pelo pós-venda no mesmo dia.',
      },
    },
  ],
};

export const reengagementCallEn: TemplateDocument = {
  key: 'reengagement-call-en',
  channel: 'task',
  locale: 'en',
  tone: 'informal',
  family: 'reengagement-call',
  name: 'Re-engagement support call',
  variants: [
    {
      key: 'a',
      weight: 1,
      script: {
        kind: 'call',
        title:
          'Re-engage {{ customer.name | default: customer.id }} ({{ event.properties.days | default: 15 }} days inactive)',
        opening:
          "Hi{% if customer.first_name != blank %} {{ customer.first_name }}{% endif %}, it's {{ workspace.name }}. " +
          "I'm calling because you haven't used the platform for a while and wanted to check everything is OK.",
        diagnosis: [
          'What made you pause? Time, a difficulty, or something changed in the business?',
          "Was there anything confusing or that didn't work as expected?",
          'What would make it worth using every day again?',
        ],
        value_proposal:
          'I can do a 15-minute session with you, now or at a set time, to fix whatever got in the way and ' +
          'set things up the way your business needs.',
        call_to_action: 'Shall we book it? Which day and time work best?',
        objections: [
          {
            objection: "I'm thinking of cancelling.",
            answer: 'Thanks for being honest. Can I ask why? If it is something we can fix, we will.',
          },
          {
            objection: "I don't have time to learn it.",
            answer: 'That is exactly why the session is short and we set it up together: it saves you time.',
          },
        ],
        escalation:
          'If the customer asks to cancel, complains about billing or reports a defect: do not push. Note the ' +
          'reason, mark the outcome "escalated" and hand it to the post-sale lead the same day.',
      },
    },
  ],
};
