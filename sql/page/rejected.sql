-- report.html of a period: entries that could not be used, by reason. Parameters: @from_date, @to_date.
SELECT reason, COUNT(*) AS entries
FROM rejected_entries
WHERE DATE(received_at) BETWEEN @from_date AND @to_date
GROUP BY reason
ORDER BY reason
