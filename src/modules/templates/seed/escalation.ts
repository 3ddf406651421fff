import type { TemplateDocument } from '../template-document.js';

// The escalation script for a dissatisfied customer (a detractor's NPS answer, a complaint,
// an "escalated" call): the seed's "guia de escalonamento para quando o cliente expressar
// insatisfação ou objeções complexas". Made by the post-sale lead, within 24 hours.
export const escalationCall: TemplateDocument = {
  key: 'escalation-call',
  channel: 'task',
  locale: 'pt-BR',
  tone: 'informal',
  name: 'Escalonamento: cliente insatisfeito',
  description: 'Retorno do responsável pelo pós-venda a um cliente insatisfeito (detrator, reclamação).',
  variants: [
    {
      key: 'a',
      weight: 1,
      script: {
        kind: 'call',
        title:
          'Retorno a cliente insatisfeito: {{ customer.name | default: customer.id }}' +
          '{% if event.properties.score != blank %} (nota {{ event.properties.score }}){% endif %}',
        opening:
          'Oi{% if customer.first_name != blank %}, {{ customer.first_name }}{% endif %}, aqui é da equipe ' +
          '{{ workspace.name }}, sou responsável pelo pós-venda. Recebi o seu retorno' +
          '{% if event.properties.score != blank %} (você deu nota {{ event.properties.score }}){% endif %} ' +
          'e quis ligar pessoalmente: primeiro, me desculpe pela experiência. Quero entender o que aconteceu ' +
          'e resolver com você.',
        diagnosis: [
          '{% if event.properties.comment != blank %}Você comentou: "{{ event.properties.comment }}". ' +
            'Pode me contar um pouco mais?{% else %}O que aconteceu, do seu ponto de vista?{% endif %}',
          'Quando isso começou e como está afetando o seu dia a dia ou o seu negócio?',
          'Você já tinha falado com alguém aqui sobre isso? O que foi dito?',
          'O que seria, para você, uma solução justa?',
        ],
        value_proposal:
          'Vou cuidar disso pessoalmente até o fim: você terá um contato direto comigo, um prazo claro para ' +
          'a solução e um retorno meu mesmo que a resposta ainda não seja a final.',
        call_to_action:
          'Posso te propor o seguinte: eu resolvo [ação combinada] até [data] e te ligo nesse dia para ' +
          'confirmar que ficou tudo certo. Combinado?',
        objections: [
          {
            objection: 'Já falei isso antes e ninguém resolveu.',
            answer:
              'Você tem toda razão de estar chateado, e eu sinto muito por isso. Por isso estou assumindo ' +
              'pessoalmente: este é o meu contato direto, e você não vai precisar repetir a história.',
          },
          {
            objection: 'Quero cancelar / quero meu dinheiro de volta.',
            answer:
              'Entendo, e vou respeitar sua decisão. Posso te explicar agora como funciona e já encaminhar? ' +
              'Se antes disso houver algo que eu possa corrigir, gostaria de tentar.',
          },
          {
            objection: 'Vou reclamar no Reclame Aqui / nas redes.',
            answer:
              'É um direito seu. Meu objetivo é resolver antes disso: me dá a chance de te apresentar uma ' +
              'solução até [data]?',
          },
        ],
        escalation:
          'Leve à direção no mesmo dia se houver: pedido de reembolso acima da sua alçada, menção a Procon, ' +
          'advogado ou processo, risco à segurança ou à saúde, ou um segundo contato insatisfeito sobre o ' +
          'mesmo problema. Registre tudo nas palavras do cliente, combine um prazo que a empresa consiga ' +
          'cumprir e nunca encerre a ligação sem dizer quando será o próximo contato.',
      },
    },
  ],
};

export const escalationCallFormal: TemplateDocument = {
  key: 'escalation-call-formal',
  channel: 'task',
  locale: 'pt-BR',
  tone: 'formal',
  family: 'escalation-call',
  name: 'Escalonamento: cliente insatisfeito — tom formal',
  variants: [
    {
      key: 'a',
      weight: 1,
      script: {
        kind: 'call',
        title:
          'Retorno a cliente insatisfeito: {{ customer.name | default: customer.id }}' +
          '{% if event.properties.score != blank %} (nota {{ event.properties.score }}){% endif %}',
        opening:
          'Bom dia{% if customer.name != blank %}, {{ customer.name }}{% endif %}. Falo da equipe ' +
          '{{ workspace.name }}; sou responsável pelo pós-venda da sua conta. Recebemos a sua avaliação e ' +
          'fiz questão de entrar em contato pessoalmente. Lamentamos a experiência e gostaríamos de ' +
          'compreender o ocorrido para apresentar uma solução.',
        diagnosis: [
          '{% if event.properties.comment != blank %}O senhor(a) registrou: "{{ event.properties.comment }}". ' +
            'Poderia detalhar?{% else %}Poderia descrever o ocorrido?{% endif %}',
          'Desde quando a situação ocorre e qual o impacto na operação da sua empresa?',
          'O assunto já havia sido tratado com alguém da nossa equipe? Qual foi o encaminhamento?',
          'Que resultado seria adequado para a sua empresa?',
        ],
        value_proposal:
          'Assumirei o caso até a conclusão: o senhor(a) terá um contato direto, um prazo definido para a ' +
          'solução e atualizações periódicas, inclusive se a resposta definitiva ainda depender de outras áreas.',
        call_to_action:
          'Proponho o seguinte: concluímos [ação combinada] até [data] e eu confirmo com o senhor(a) nessa data. ' +
          'Está de acordo?',
        objections: [
          {
            objection: 'Já relatamos este problema anteriormente.',
            answer:
              'O senhor(a) tem toda a razão, e peço desculpas pela falha no acompanhamento. A partir de agora o ' +
              'caso fica sob minha responsabilidade direta.',
          },
          {
            objection: 'Estamos avaliando encerrar o contrato.',
            answer:
              'Compreendo e respeito a avaliação. Posso apresentar, até [data], um plano de correção por escrito ' +
              'para que a decisão seja tomada com todas as informações?',
          },
        ],
        escalation:
          'Encaminhe à diretoria no mesmo dia em caso de: pedido de reembolso ou desconto acima da sua alçada, ' +
          'menção a rescisão contratual, Procon, advogado ou processo, risco à segurança, ou segundo contato ' +
          'insatisfeito sobre o mesmo problema. Registre o relato com fidelidade e formalize por e-mail o prazo ' +
          'combinado.',
      },
    },
  ],
};

export const escalationCallEn: TemplateDocument = {
  key: 'escalation-call-en',
  channel: 'task',
  locale: 'en',
  tone: 'informal',
  family: 'escalation-call',
  name: 'Escalation: dissatisfied customer',
  variants: [
    {
      key: 'a',
      weight: 1,
      script: {
        kind: 'call',
        title:
          'Call back an unhappy customer: {{ customer.name | default: customer.id }}' +
          '{% if event.properties.score != blank %} (score {{ event.properties.score }}){% endif %}',
        opening:
          "Hi{% if customer.first_name != blank %} {{ customer.first_name }}{% endif %}, I'm the post-sale lead " +
          'at {{ workspace.name }}. I got your feedback and wanted to call you myself: first, I am sorry about ' +
          'your experience. I want to understand what happened and fix it with you.',
        diagnosis: [
          '{% if event.properties.comment != blank %}You wrote: "{{ event.properties.comment }}". Can you tell ' +
            'me more?{% else %}What happened, from your point of view?{% endif %}',
          'When did it start, and how is it affecting you or your business?',
          'Had you talked to anyone here about it before? What were you told?',
          'What would a fair solution look like to you?',
        ],
        value_proposal:
          'I will handle this personally to the end: you get my direct contact, a clear deadline, and an update ' +
          'from me even if the answer is not final yet.',
        call_to_action:
          "Here's my proposal: I'll get [agreed action] done by [date] and call you that day to confirm. Deal?",
        objections: [
          {
            objection: 'I already told you this and nobody fixed it.',
            answer:
              'You have every reason to be upset, and I am sorry. That is why I am taking it on myself: this is ' +
              'my direct line, and you will not have to repeat the story.',
          },
          {
            objection: 'I want to cancel / I want a refund.',
            answer:
              'I understand and will respect your decision. Let me explain how it works and start it now. If ' +
              'there is anything I can fix first, I would like to try.',
          },
        ],
        escalation:
          'Take it to management the same day when: a refund is above your authority, the customer mentions ' +
          'consumer protection, a lawyer or a lawsuit, there is a safety risk, or this is a second unhappy ' +
          'contact about the same problem. Write everything down in the customer’s words, agree a deadline the ' +
          'company can keep, and never end the call without saying when the next contact will be.',
      },
    },
  ],
};
