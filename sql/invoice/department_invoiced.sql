-- Per period and department: its share of the invoice (docs/tables.md), from the rows of
-- invoice_allocation of the same run; whole minor units that add up to the export's total.
-- Parameters: @from_date DATE, @to_date DATE.
SELECT
  period,
  department,
  ANY_VALUE(currency) AS invoiced_currency,
  SUM(net_allocated) AS invoiced_net,
  SUM(list_allocated) AS invoiced_list
FROM invoice_allocation
WHERE day BETWEEN @from_date AND @to_date
GROUP BY period, department
ORDER BY period, department
