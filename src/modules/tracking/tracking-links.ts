import type { RenderContext } from '../templates/render-context.js';
import { signTrackingToken } from './tracking-token.js';

export interface TrackingTarget {
  readonly workspaceId: string;
  readonly touchpointId: string;
}

/** The signed links of one touchpoint's email: what its template sees and how it tracks. */
export interface TrackingLinks {
  /** For the render context: `links.unsubscribe`, `links.survey["0".."10"]`. */
  readonly context: RenderContext['links'];
  /** The `List-Unsubscribe` https target (RFC 8058: POST here unsubscribes at once). */
  readonly unsubscribe: string;
  /** The 1×1 open pixel's URL. */
  readonly openPixel: string;
  /** Wraps a destination in a signed click-tracking redirect (the `track` filter). */
  readonly trackUrl: (url: string) => string;
}

/** Builds the signed links under PUBLIC_URL for one touchpoint. */
export function trackingLinks(key: Buffer, publicUrl: string, target: TrackingTarget): TrackingLinks {
  const base = publicUrl.replace(/\/+$/, '');
  const sign = (kind: 'o' | 'c' | 'u' | 's', url?: string) =>
    signTrackingToken(key, {
      kind,
      workspaceId: target.workspaceId,
      touchpointId: target.touchpointId,
      ...(url !== undefined ? { url } : {}),
    });
  const unsubscribe = `${base}/u/${sign('u')}`;
  const surveyToken = sign('s');
  const survey: Record<string, string> = {};
  for (let score = 0; score <= 10; score++) survey[String(score)] = `${base}/s/${surveyToken}?score=${score}`;
  return {
    context: { unsubscribe, survey },
    unsubscribe,
    openPixel: `${base}/t/o/${sign('o')}`,
    trackUrl: (url) => `${base}/t/c/${sign('c', url)}`,
  };
}
