import type { TemplateDocument } from '../template-document.js';
import { escalationCall, escalationCallEn, escalationCallFormal } from './escalation.js';
import { crmSync, upgradeOffer, upgradeOfferEn } from './growth.js';
import {
  checkin,
  checkinEn,
  usageTips,
  usageTipsEn,
  welcome,
  welcomeEn,
  welcomeFormal,
} from './onboarding.js';
import { reengagement, reengagementCall, reengagementCallEn, reengagementEn } from './recovery.js';
import { checkinCall, checkinCallEn, checkinCallFormal } from './scripts.js';
import { cesSurvey, cesSurveyEn, csatSurvey, csatSurveyEn, npsSurvey, npsSurveyEn } from './surveys.js';

/**
 * The seed library, installed in every new workspace: pt-BR first, with English (`-en`) and
 * formal (`-formal`) members of each family. A family's head comes before its members, which
 * name it in `family`. Ordered by the calendar of the seed article.
 */
export const TEMPLATE_LIBRARY: readonly TemplateDocument[] = [
  welcome,
  welcomeFormal,
  welcomeEn,
  checkinCall,
  checkinCallFormal,
  checkinCallEn,
  checkin,
  checkinEn,
  usageTips,
  usageTipsEn,
  npsSurvey,
  npsSurveyEn,
  upgradeOffer,
  upgradeOfferEn,
  reengagement,
  reengagementEn,
  reengagementCall,
  reengagementCallEn,
  escalationCall,
  escalationCallFormal,
  escalationCallEn,
  cesSurvey,
  cesSurveyEn,
  csatSurvey,
  csatSurveyEn,
  crmSync,
];
