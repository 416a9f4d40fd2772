-- report.html of a period: the department rows the report function wrote.
-- Parameters: @from_date DATE, @to_date DATE, @granularity STRING.
SELECT period, department, compute_paid_usd, compute_consumed_usd, storage_usd, free_rides_given_usd, free_rides_taken_usd,
  unpriced_jobs
FROM department_costs
WHERE granularity = @granularity
  AND period_start BETWEEN IF(@granularity = 'month', DATE_TRUNC(@from_date, MONTH), @from_date) AND @to_date
ORDER BY period, department
