// Tests of difference between template variants. Pure functions, no I/O.

/**
 * erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), enough for p-values
 * reported to four decimals.
 */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** The standard normal cumulative distribution function Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

export interface ZTest {
  readonly z: number;
  /** Two-sided. */
  readonly pValue: number;
}

/**
 * Pooled two-proportion z-test: z = (p1 − p2) ÷ √(p(1 − p)(1/n1 + 1/n2)) with p the pooled
 * proportion; two-sided p = 2(1 − Φ(|z|)). With every trial a success or every one a failure
 * there is no difference to see: z = 0, p = 1.
 */
export function twoProportionZTest(successes1: number, n1: number, successes2: number, n2: number): ZTest {
  const pooled = (successes1 + successes2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, pValue: 1 };
  const z = (successes1 / n1 - successes2 / n2) / se;
  return { z, pValue: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))) };
}

/** ln Γ(x), Lanczos approximation (g = 7, 9 terms), for x > 0. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const y = x - 1;
  let sum = c[0] as number;
  for (let i = 1; i < 9; i++) sum += (c[i] as number) / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The regularized upper incomplete gamma Q(a, x): series below a + 1, continued fraction above. */
function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPrefix = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 500 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPrefix));
  }
  // Lentz's method for the continued fraction of Q.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lnPrefix) * h);
}

export interface ChiSquaredTest {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
}

/**
 * Pearson's chi-squared test of homogeneity on a k × 2 table (successes and failures of k
 * groups), without continuity correction; p = Q((k − 1)/2, χ²/2).
 */
export function chiSquaredTest(
  groups: readonly { readonly successes: number; readonly n: number }[],
): ChiSquaredTest {
  const total = groups.reduce((sum, g) => sum + g.n, 0);
  const successes = groups.reduce((sum, g) => sum + g.successes, 0);
  const pooled = total > 0 ? successes / total : 0;
  let statistic = 0;
  if (pooled > 0 && pooled < 1) {
    for (const g of groups) {
      const expectedYes = g.n * pooled;
      const expectedNo = g.n * (1 - pooled);
      statistic +=
        (g.successes - expectedYes) ** 2 / expectedYes + (g.n - g.successes - expectedNo) ** 2 / expectedNo;
    }
  }
  const degreesOfFreedom = groups.length - 1;
  return {
    statistic,
    degreesOfFreedom,
    pValue: statistic === 0 ? 1 : gammaQ(degreesOfFreedom / 2, statistic / 2),
  };
}
