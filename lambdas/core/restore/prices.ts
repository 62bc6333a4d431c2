/**
 * S3 list prices the restore estimate uses (restore/estimate.ts), per region.
 * The us-east-1 list prices of the public price list,
 * https://aws.amazon.com/s3/pricing/ (S3 Standard, first 50 TB tier), as the
 * issue that asked for the estimate quoted them; written down on 2026-12-04
 * without re-reading the page (no network where this was built): check them
 * before relying on the figure. `--price-table FILE` (the same JSON shape)
 * overrides this table.
 */
import { z } from 'zod';

export const RegionPricesSchema = z
  .object({
    /** USD per 1,000 PUT, COPY, POST and LIST requests. */
    writePer1000: z.number().min(0),
    /** USD per 1,000 GET, HEAD (and other) requests. */
    readPer1000: z.number().min(0),
    /** USD per 1,000 DELETE requests (free on S3). */
    deletePer1000: z.number().min(0),
    /** USD per GB-month of S3 Standard storage. */
    storagePerGbMonth: z.number().min(0),
  })
  .strict();

export const PriceTableSchema = z
  .object({
    /** Where and when the prices were read. */
    source: z.string().min(1),
    taken: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'is not a date like 2026-12-04'),
    currency: z.literal('USD'),
    regions: z.record(z.string(), RegionPricesSchema),
  })
  .strict();

export type RegionPrices = z.infer<typeof RegionPricesSchema>;
export type PriceTable = z.infer<typeof PriceTableSchema>;

export const DEFAULT_PRICES: PriceTable = {
  source: 'https://aws.amazon.com/s3/pricing/ (S3 Standard, first 50 TB/month; as quoted in issue 15, not re-read)',
  taken: '2026-12-04',
  currency: 'USD',
  regions: {
    'us-east-1': { writePer1000: 0.005, readPer1000: 0.0004, deletePer1000: 0, storagePerGbMonth: 0.023 },
  },
};
