import type { TemplateDocument } from '../template-document.js';
import { email, hello, helloFormal, linkParagraph, shopLink } from './common.js';

// D+3 after delivery: the welcome email (seed: "primeiro contato … no dia 3 com um email de
// boas-vindas"), in the informal and formal tones and in English.
export const welcome: TemplateDocument = {
  key: 'welcome',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Boas-vindas (D+3 após a entrega)',
  description: 'Primeiro contato depois da entrega: confirma que chegou tudo bem e abre o canal.',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject:
        'Chegou tudo certinho{% if customer.first_name != blank %}, {{ customer.first_name }}{% endif %}?',
      html: email(
        'pt',
        [
          hello('Oi'),
          'Passando para saber se o seu pedido chegou direitinho e se está tudo funcionando como você esperava.',
          'Nos primeiros dias sempre aparece alguma dúvida — é normal! Se precisar de qualquer coisa, é só ' +
            'responder este e-mail: quem lê é gente de verdade aqui da equipe {{ workspace.name }}.',
          linkParagraph('help', 'Se preferir, deixamos um guia rápido para você começar.'),
          'Obrigado por escolher a gente. 💛',
        ],
        'Um abraço,<br>Equipe {{ workspace.name }}',
      ),
    },
  ],
};

export const welcomeFormal: TemplateDocument = {
  key: 'welcome-formal',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'formal',
  family: 'welcome',
  name: 'Boas-vindas (D+3) — tom formal',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'Confirmação de recebimento — {{ workspace.name }}',
      html: email(
        'pt',
        [
          helloFormal('Olá'),
          'Agradecemos a confiança em nosso trabalho. Gostaríamos de confirmar se o seu pedido foi ' +
            'entregue em perfeitas condições e se está atendendo às suas expectativas.',
          'Caso surja qualquer dúvida sobre a instalação ou o uso, nossa equipe está à disposição: basta ' +
            'responder a este e-mail.',
          linkParagraph('help', 'Preparamos também um guia de primeiros passos.'),
        ],
        'Atenciosamente,<br>Equipe {{ workspace.name }}',
      ),
    },
  ],
};

export const welcomeEn: TemplateDocument = {
  key: 'welcome-en',
  channel: 'email',
  locale: 'en',
  tone: 'informal',
  family: 'welcome',
  name: 'Welcome (D+3 after delivery)',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject:
        'Did everything arrive OK{% if customer.first_name != blank %}, {{ customer.first_name }}{% endif %}?',
      html: email(
        'en',
        [
          hello('Hi'),
          'Just checking in to make sure your order arrived safely and everything works the way you expected.',
          'Questions in the first few days are completely normal. Just reply to this email — a real person ' +
            'at {{ workspace.name }} reads every answer.',
          linkParagraph('help', 'Here is a short guide to get you started.'),
          'Thanks for choosing us!',
        ],
        'Best,<br>The {{ workspace.name }} team',
      ),
    },
  ],
};

// D+30: usage tips, with the seed's 80 % message and the advanced-reports module.
const reportsTutorialPt = shopLink(
  'reports_tutorial',
  'Veja o tutorial de relatórios avançados',
  'Se quiser, responda este e-mail que a gente te manda o passo a passo',
);

export const usageTips: TemplateDocument = {
  key: 'usage-tips',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Dicas de uso (D+30)',
  description: 'Educação de uso no primeiro mês: mostra o que já foi adotado e sugere o próximo passo.',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'Um mês com a gente: uma dica para ir além',
      html: email(
        'pt',
        [
          hello('Oi'),
          'Já faz um mês que você começou com a gente e queremos que você aproveite cada recurso.',
          '{% assign adoption = customer.attributes.basic_features_usage | default: usage.percent | default: 80 %}' +
            'Veja que você tem usado {{ adoption | percent }} das funcionalidades básicas. ' +
            '<strong>Já explorou o módulo avançado de relatórios?</strong> Com ele você acompanha vendas, ' +
            'estoque e clientes num painel só, e descobre em minutos o que antes levava horas na planilha.',
          `Temos um tutorial que pode acelerar sua adoção: ${reportsTutorialPt}.`,
          'Qualquer dúvida, é só responder.',
        ],
        'Abraço,<br>Equipe {{ workspace.name }}',
      ),
    },
  ],
};

export const usageTipsEn: TemplateDocument = {
  key: 'usage-tips-en',
  channel: 'email',
  locale: 'en',
  tone: 'informal',
  family: 'usage-tips',
  name: 'Usage tips (D+30)',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject: 'One month in: a tip to get more out of it',
      html: email(
        'en',
        [
          hello('Hi'),
          "It's been a month since you started with {{ workspace.name }}, and we want you to get the most out of it.",
          '{% assign adoption = customer.attributes.basic_features_usage | default: usage.percent | default: 80 %}' +
            "You're already using {{ adoption | percent }} of the basic features. " +
            '<strong>Have you tried the advanced reports module?</strong> It puts sales, stock and customers ' +
            'on one dashboard, so what used to take hours in a spreadsheet takes minutes.',
          `We have a tutorial that will speed things up: ${shopLink(
            'reports_tutorial',
            'watch the advanced reports tutorial',
            'just reply and we will send you the step-by-step',
          )}.`,
          'Any questions, just reply.',
        ],
        'Cheers,<br>The {{ workspace.name }} team',
      ),
    },
  ],
};

// D+10 for smaller accounts: the check-in a person makes by phone for larger ones, by email
// (seed: "acompanhamento no dia 10" — contas menores recebem e-mail, as maiores uma ligação).
export const checkin: TemplateDocument = {
  key: 'checkin',
  channel: 'email',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Check-in por e-mail (D+10, contas menores)',
  description: 'Dez dias depois: como está o uso, uma pergunta aberta e o caminho para falar com alguém.',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject:
        '{% if customer.first_name != blank %}{{ customer.first_name }}, como{% else %}Como{% endif %} estão sendo os primeiros dias?',
      html: email(
        'pt',
        [
          hello('Oi'),
          'Já faz uns dez dias que você começou com a gente, e queríamos saber: está conseguindo usar tudo ' +
            'o que precisava? Teve alguma parte que deu mais trabalho do que deveria?',
          'Responda este e-mail com uma linha só — mesmo que seja "tudo certo" — que a gente lê tudo e ' +
            'responde rapidinho. Se preferir conversar, é só dizer um horário bom que ligamos para você.',
          linkParagraph('schedule', 'Ou escolha um horário para uma conversa de 10 minutos.'),
        ],
        'Um abraço,<br>Equipe {{ workspace.name }}',
      ),
    },
  ],
};

export const checkinEn: TemplateDocument = {
  key: 'checkin-en',
  channel: 'email',
  locale: 'en',
  tone: 'informal',
  family: 'checkin',
  name: 'Email check-in (D+10, smaller accounts)',
  variants: [
    {
      key: 'a',
      weight: 1,
      subject:
        '{% if customer.first_name != blank %}{{ customer.first_name }}, how{% else %}How{% endif %} are the first days going?',
      html: email(
        'en',
        [
          hello('Hi'),
          "It's been about ten days since you started with us, so we wanted to ask: are you able to do " +
            'everything you needed? Was anything harder than it should be?',
          'Just reply to this email with a single line — even "all good" — and a real person will get back ' +
            "to you quickly. If you'd rather talk, tell us a good time and we'll call you.",
          linkParagraph('schedule', 'Or pick a time for a 10-minute chat.'),
        ],
        'Best,<br>The {{ workspace.name }} team',
      ),
    },
  ],
};
