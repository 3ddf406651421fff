import { SURVEY_SCALES } from '../events/event-types.js';

export type SurveyKind = keyof typeof SURVEY_SCALES;

// `nps`, `ces` or `csat` as a whole word of a template key: nps-survey, ces-survey-en, pesquisa_csat.
const KIND_IN_KEY = /(?:^|[-_])(nps|ces|csat)(?=[-_]|$)/;

/**
 * The survey a touchpoint asks for, read from its template's key, else from that template's
 * family (a translation such as `nps-survey-en` belongs to `nps-survey`): the first of `nps`,
 * `ces` or `csat` that appears in it as a word. Templates carry no survey field, and the seed
 * library's survey templates are named this way; a shop's own survey template follows the
 * same rule (`pesquisa-nps`, `csat-pos-atendimento`). Undefined: the template is no survey.
 */
export function surveyKindOf(templateKey: string, family: string | null): SurveyKind | undefined {
  for (const name of [templateKey, family]) {
    const match = name ? KIND_IN_KEY.exec(name) : null;
    if (match) return match[1] as SurveyKind;
  }
  return undefined;
}

/** Whether `score` is an answer of the survey's scale (NPS 0–10, CES 1–7, CSAT 1–5). */
export function isScoreOf(kind: SurveyKind, score: number): boolean {
  const [min, max] = SURVEY_SCALES[kind];
  return Number.isInteger(score) && score >= min && score <= max;
}
