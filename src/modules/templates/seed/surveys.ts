import type { TemplateDocument } from '../template-document.js';
import { email, hello, scoreButtons } from './common.js';

// D+60: the NPS survey, one click per score (links.survey["0"…"10"] are signed by Dispatch).
export const npsSurvey: TemplateDocument = {
  key: 'nps-survey',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Pesquisa NPS (D+60)',
  description: 'Uma pergunta, um clique: a nota de 0 a 10 vai direto pelo link.',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: '{{ customer.first_name | default: "Oi" }}, uma pergunta rápida (leva 5 segundos)',
      html: email(
        'pt',
        [
          hello('Oi'),
          'Já faz uns dois meses que você está com a gente, e sua opinião vale muito para nós.',
          '<p><strong>De 0 a 10, quanto você recomendaria a {{ workspace.name }} para um amigo ou colega?</strong></p>',
          scoreButtons(0, 10),
          '<p style="font-size:13px;color:#555555">0 = não recomendaria de jeito nenhum · 10 = recomendaria com certeza</p>',
          'É só clicar na nota. Se quiser contar o porquê, responda este e-mail: a gente lê tudo.',
        ],
        'Obrigado!<br>Equipe {{ workspace.name }}',
      ),
    },
  ],
};

export const npsSurveyEn: TemplateDocument = {
  key: 'nps-survey-en',
  channel: 'email',
  locale: 'en',
  tone: 'informal',
  family: 'nps-survey',
  name: 'NPS survey (D+60)',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'One quick question (takes 5 seconds)',
      html: email(
        'en',
        [
          hello('Hi'),
          "You've been with us for about two months, and your opinion matters a lot to {{ workspace.name }}.",
          '<p><strong>From 0 to 10, how likely are you to recommend {{ workspace.name }} to a friend or colleague?</strong></p>',
          scoreButtons(0, 10),
          '<p style="font-size:13px;color:#555555">0 = not at all likely · 10 = extremely likely</p>',
          'Just click a score. If you want to tell us why, reply to this email — we read every answer.',
        ],
        'Thank you!<br>The {{ workspace.name }} team',
      ),
    },
  ],
};

const ticketPt =
  '{% if event.properties.ticket_id != blank %} (chamado #{{ event.properties.ticket_id }}){% endif %}';
const ticketEn =
  '{% if event.properties.ticket_id != blank %} (ticket #{{ event.properties.ticket_id }}){% endif %}';

// After a support ticket is resolved: Customer Effort Score, 1 (very hard) to 7 (very easy).
export const cesSurvey: TemplateDocument = {
  key: 'ces-survey',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Pesquisa CES após atendimento',
  description: 'Mede o esforço do cliente para resolver o problema (1 = muito difícil, 7 = muito fácil).',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'Foi fácil resolver sua solicitação?',
      html: email(
        'pt',
        [
          hello('Oi'),
          `Acabamos de concluir o seu atendimento${ticketPt}. Queremos saber como foi para você.`,
          '<p><strong>De 1 a 7, quão fácil foi resolver sua solicitação com a gente?</strong></p>',
          scoreButtons(1, 7),
          '<p style="font-size:13px;color:#555555">1 = muito difícil · 7 = muito fácil</p>',
          'Se algo deu trabalho demais, responda este e-mail e conte para a gente: é assim que melhoramos.',
        ],
        'Obrigado,<br>Equipe {{ workspace.name }}',
      ),
    },
  ],
};

export const cesSurveyEn: TemplateDocument = {
  key: 'ces-survey-en',
  channel: 'email',
  locale: 'en',
  tone: 'informal',
  family: 'ces-survey',
  name: 'CES survey after support',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'Was it easy to get your issue solved?',
      html: email(
        'en',
        [
          hello('Hi'),
          `We have just closed your support request${ticketEn}. We would love to know how it went.`,
          '<p><strong>From 1 to 7, how easy was it to get your issue solved?</strong></p>',
          scoreButtons(1, 7),
          '<p style="font-size:13px;color:#555555">1 = very difficult · 7 = very easy</p>',
          'If anything took too much effort, reply and tell us: that is how we improve.',
        ],
        'Thanks,<br>The {{ workspace.name }} team',
      ),
    },
  ],
};

// After a support ticket is resolved: CSAT, 1 (very dissatisfied) to 5 (very satisfied).
export const csatSurvey: TemplateDocument = {
  key: 'csat-survey',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Pesquisa CSAT após atendimento',
  description: 'Satisfação com o atendimento (1 = muito insatisfeito, 5 = muito satisfeito).',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'Como foi o seu atendimento?',
      html: email(
        'pt',
        [
          hello('Oi'),
          `Seu atendimento${ticketPt} foi concluído. Leva um segundo: como você avalia a ajuda que recebeu?`,
          scoreButtons(1, 5),
          '<p style="font-size:13px;color:#555555">1 = muito insatisfeito · 5 = muito satisfeito</p>',
          'Se o problema voltar ou ainda restar alguma dúvida, é só responder este e-mail que a gente continua de onde parou.',
        ],
        'Abraço,<br>Equipe {{ workspace.name }}',
      ),
    },
  ],
};

export const csatSurveyEn: TemplateDocument = {
  key: 'csat-survey-en',
  channel: 'email',
  locale: 'en',
  tone: 'informal',
  family: 'csat-survey',
  name: 'CSAT survey after support',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'How was your support experience?',
      html: email(
        'en',
        [
          hello('Hi'),
          `Your support request${ticketEn} has been closed. One click: how satisfied are you with the help you got?`,
          scoreButtons(1, 5),
          '<p style="font-size:13px;color:#555555">1 = very dissatisfied · 5 = very satisfied</p>',
          'If the problem comes back or anything is still unclear, just reply to this email.',
        ],
        'Best,<br>The {{ workspace.name }} team',
      ),
    },
  ],
};
