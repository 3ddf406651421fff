import type { TemplateDocument } from '../template-document.js';

// Call scripts in the seed article's structure: empathetic opening, diagnosis questions,
// value proposal, call to action, objections with answers, escalation guide.

// D+10: the check-in call ("uma ligação de 10 minutos no dia 10 para garantir que o cliente
// está configurando corretamente"). Informal and formal: the checklist asks to match the profile.
export const checkinCall: TemplateDocument = {
  key: 'checkin-call',
  channel: 'task',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Ligação de check-in (D+10)',
  description: 'Ligação de 10 minutos para garantir que o cliente está configurando e usando direito.',
  variants: [
    {
      key: 'a',
      weight: 1,
      script: {
        kind: 'call',
        title: 'Check-in de 10 minutos com {{ customer.name | default: "o cliente" }}',
        opening:
          'Oi{% if customer.first_name != blank %}, {{ customer.first_name }}{% endif %}, tudo bem? Aqui é da equipe ' +
          '{{ workspace.name }}. Vi que seu pedido chegou há uns dias e quis ligar rapidinho para saber como ' +
          'está sendo o começo. Tem uns 10 minutinhos agora?',
        diagnosis: [
          'Como está sendo a instalação/configuração até aqui? Travou em alguma parte?',
          'O que você mais queria resolver quando comprou com a gente? Já está conseguindo?',
          'Quem mais na sua equipe está usando? Alguém ficou com dúvida?',
          'De 0 a 10, como está sua experiência até agora? O que faltaria para ser 10?',
        ],
        value_proposal:
          'A gente pode fazer uma sessão de configuração de 20 minutos, sem custo, com alguém do nosso time ' +
          'compartilhando a tela com você. Em geral isso já resolve as dúvidas do começo e você ganha tempo ' +
          'no dia a dia.',
        call_to_action: 'Posso já deixar essa sessão agendada? Que dia e horário ficam melhores para você?',
        objections: [
          {
            objection: 'Agora não dá, estou sem tempo.',
            answer:
              'Super entendo! Prefere que eu te chame no WhatsApp para marcar num horário melhor, ou te ligo ' +
              'de novo na quinta de manhã?',
          },
          {
            objection: 'Está tudo certo, não preciso de ajuda.',
            answer:
              'Que ótimo! Então só registro aqui que está tudo bem. Se aparecer qualquer dúvida, é só responder ' +
              'nosso e-mail ou chamar no WhatsApp — atendemos rapidinho.',
          },
          {
            objection: 'Ainda nem comecei a usar.',
            answer:
              'Sem problema, acontece bastante! O que está travando? Se quiser, a gente faz os primeiros passos ' +
              'juntos nessa sessão e você já sai usando.',
          },
          {
            objection: 'Tive um problema com o produto/entrega.',
            answer:
              'Poxa, sinto muito. Me conta exatamente o que aconteceu que eu já abro um chamado com prioridade ' +
              'e te passo o número agora.',
          },
        ],
        escalation:
          'Se o cliente estiver insatisfeito, falar em cancelar, devolver ou citar um problema que você não ' +
          'resolve na hora: não discuta nem prometa prazos. Registre o relato com as palavras dele, marque o ' +
          'resultado como "escalated" e passe no mesmo dia para o responsável pelo pós-venda, que retorna em ' +
          'até 24 horas (roteiro "escalation-call").',
      },
    },
  ],
};

export const checkinCallFormal: TemplateDocument = {
  key: 'checkin-call-formal',
  channel: 'task',
  locale: 'pt-BR',
  tone: 'formal',
  family: 'checkin-call',
  name: 'Ligação de check-in (D+10) — tom formal',
  variants: [
    {
      key: 'a',
      weight: 1,
      script: {
        kind: 'call',
        title: 'Check-in de implantação — {{ customer.name | default: "cliente" }}',
        opening:
          'Bom dia{% if customer.name != blank %}, {{ customer.name }}{% endif %}. Aqui é da equipe {{ workspace.name }}. ' +
          'Estou entrando em contato para acompanhar a implantação e garantir que tudo esteja funcionando ' +
          'conforme o combinado. O senhor(a) teria dez minutos neste momento?',
        diagnosis: [
          'Como está o andamento da configuração? Há alguma etapa pendente?',
          'Quais resultados a sua empresa espera alcançar nos próximos 90 dias?',
          'Quantas pessoas da equipe já utilizam a solução? Alguma área precisa de treinamento?',
          'Há algum ponto que não atendeu às expectativas até agora?',
        ],
        value_proposal:
          'Podemos agendar uma sessão de configuração assistida, sem custo adicional, com um especialista da ' +
          'nossa equipe, para validar os ajustes e treinar os usuários-chave.',
        call_to_action: 'Posso reservar essa sessão? Qual data e horário são mais convenientes?',
        objections: [
          {
            objection: 'No momento não tenho disponibilidade.',
            answer:
              'Compreendo perfeitamente. Posso enviar por e-mail algumas opções de horário para a próxima semana?',
          },
          {
            objection: 'Preciso envolver outras pessoas da empresa.',
            answer:
              'Claro. Posso enviar um convite para todos os participantes. Quem mais deveria estar presente?',
          },
          {
            objection: 'Estamos avaliando se a solução atende.',
            answer:
              'Faz todo sentido. Quais critérios estão sendo avaliados? Posso preparar um material específico ' +
              'e incluir esses pontos na sessão.',
          },
        ],
        escalation:
          'Diante de insatisfação, menção a cancelamento, questões contratuais ou objeções que exijam decisão ' +
          'comercial: agradeça, registre o relato com precisão, marque o resultado como "escalated" e ' +
          'encaminhe no mesmo dia ao gerente da conta, que deve retornar em até 24 horas.',
      },
    },
  ],
};

export const checkinCallEn: TemplateDocument = {
  key: 'checkin-call-en',
  channel: 'task',
  locale: 'en',
  tone: 'informal',
  family: 'checkin-call',
  name: 'Check-in call (D+10)',
  variants: [
    {
      key: 'a',
      weight: 1,
      script: {
        kind: 'call',
        title: '10-minute check-in with {{ customer.name | default: "the customer" }}',
        opening:
          "Hi{% if customer.first_name != blank %} {{ customer.first_name }}{% endif %}, it's {{ workspace.name }} " +
          'here. Your order arrived a few days ago and I wanted to see how the first days are going. ' +
          'Do you have ten minutes?',
        diagnosis: [
          'How is the setup going so far? Anything you got stuck on?',
          'What did you most want to solve when you bought from us? Is it working for that yet?',
          'Who else on your team is using it? Any questions from them?',
          'From 0 to 10, how is it going so far? What would make it a 10?',
        ],
        value_proposal:
          'We can do a free 20-minute setup session with someone from our team sharing the screen with you. ' +
          'It usually clears up the early questions and saves you time every day.',
        call_to_action: 'Shall I book that session now? Which day and time suit you best?',
        objections: [
          {
            objection: "I don't have time right now.",
            answer:
              'Totally understand. Should I message you to find a better time, or call back Thursday morning?',
          },
          {
            objection: "Everything's fine, I don't need help.",
            answer: "Great to hear! I'll note that. If anything comes up, just reply to our email.",
          },
          {
            objection: "I haven't started using it yet.",
            answer:
              "That's common! What's holding you back? We can do the first steps together in the session.",
          },
        ],
        escalation:
          'If the customer is unhappy, mentions cancelling or returning, or raises a problem you cannot solve ' +
          'on the call: do not argue or promise deadlines. Write down what they said, mark the outcome ' +
          '"escalated" and hand it to the post-sale lead the same day, who calls back within 24 hours.',
      },
    },
  ],
};
