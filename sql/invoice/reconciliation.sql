-- Per period, billing project and SKU group: the invoice's net and list cost and how it was
-- shared out (reconciliation.csv's amount columns), from the rows of invoice_allocation.
-- Parameters: @from_date DATE, @to_date DATE.
SELECT
  period,
  billing_project,
  sku_group,
  ANY_VALUE(currency) AS currency,
  SUM(list) AS list_cost,
  SUM(net) AS net_cost,
  SUM(IF(basis = 'jobs', net_allocated, 0)) AS allocated_to_jobs,
  SUM(IF(basis = 'project_owner', net_allocated, 0)) AS allocated_to_project_owner,
  SUM(IF(basis = 'idle_to_admin', net_allocated, 0)) AS idle_to_admin,
  SUM(IF(basis = 'unattributed', net_allocated, 0)) AS unattributed,
  SUM(net) - SUM(net_allocated) AS rounding,
  SUM(IF(capacity_status = 'Unused', net, 0)) AS idle_cost
FROM invoice_allocation
WHERE day BETWEEN @from_date AND @to_date
GROUP BY period, billing_project, sku_group
ORDER BY period, billing_project, sku_group
