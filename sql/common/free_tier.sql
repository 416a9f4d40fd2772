-- The rows of the `jobs` CTE, each with free_usd: what of its cost BigQuery's free tier covered,
-- when @free_tier = 'deduct' (else 0), as src/core/free-tier.ts. "The first 1 TB of data processed
-- per month is free of charge (per billing account)" (https://cloud.google.com/bigquery/pricing):
-- the calendar month's on-demand jobs (usage_date, the billing day) in end-time order (to the
-- millisecond, then job_id) consume the 1 TiB first; a job's free share of its cost is
-- ROUND(cost * free_bytes / billed_bytes) to the nano-dollar, halves away from zero.
-- Parameters: @free_tier STRING ('show' or 'deduct').
SELECT
  * EXCEPT (bytes_through),
  IF(
    @free_tier = 'deduct' AND pricing_model = 'on_demand' AND billed_bytes > 0 AND compute_cost_usd > 0,
    CAST(
      ROUND(
        CAST(compute_cost_usd AS BIGNUMERIC)
          * GREATEST(0, LEAST(billed_bytes, 1099511627776 - (bytes_through - billed_bytes)))
          / billed_bytes,
        9
      ) AS NUMERIC
    ),
    0
  ) AS free_usd
FROM (
  SELECT
    *,
    SUM(IF(pricing_model = 'on_demand' AND billed_bytes > 0 AND compute_cost_usd > 0, billed_bytes, 0)) OVER (
      PARTITION BY FORMAT_DATE('%Y-%m', usage_date)
      ORDER BY TIMESTAMP_TRUNC(end_time, MILLISECOND), job_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS bytes_through
  FROM jobs
)
