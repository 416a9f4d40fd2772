-- report.html of a period: the payer x consumer cells. Parameters: @from_date, @to_date, @granularity.
SELECT period, payer_department, consumer_department, jobs, compute_cost_usd
FROM chargeback_matrix
WHERE granularity = @granularity
  AND period_start BETWEEN IF(@granularity = 'month', DATE_TRUNC(@from_date, MONTH), @from_date) AND @to_date
ORDER BY period, payer_department, consumer_department
