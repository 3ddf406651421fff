import { createHash } from 'node:crypto';

export interface Weighted {
  readonly key: string;
  readonly weight: number;
}

/**
 * A point in [0, 1) fixed by the template and the customer: the first 48 bits of
 * SHA-256("<template key>:<customer id>"). Uniform over customers, and independent between
 * templates, so being in variant "b" of one test says nothing about another.
 */
export function assignmentPoint(templateKey: string, customerId: string): number {
  const digest = createHash('sha256').update(`${templateKey}:${customerId}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The variant a customer gets: deterministic from (template key, customer id), so the same
 * customer sees the same variant every time (also across new versions, while the variants
 * and weights stay), and over many customers each variant's share follows its weight.
 * Variants with weight 0 are never picked. Undefined only when no weight is positive.
 */
export function assignVariant<V extends Weighted>(
  templateKey: string,
  customerId: string,
  variants: readonly V[],
): V | undefined {
  const live = variants.filter((v) => v.weight > 0);
  const total = live.reduce((sum, v) => sum + v.weight, 0);
  if (total <= 0) return undefined;
  const target = assignmentPoint(templateKey, customerId) * total;
  let cumulative = 0;
  for (const variant of live) {
    cumulative += variant.weight;
    if (target < cumulative) return variant;
  }
  return live.at(-1);
}
