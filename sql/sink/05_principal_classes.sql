-- Step 3: the class of every principal of the window's jobs and reads (attribute.ts
-- classifyPrincipal, rule by rule): exact principal, the most specific pattern, a service
-- account of a registered or partner project, the organisation's domains, a partner's domain,
-- anyone else outside. Lookups are joins on the few distinct principals.
CREATE TEMP TABLE principal_classes AS
WITH projects AS (
  SELECT p.project, p.department, p.kind, p.project_number
  FROM registry_projects AS p
  JOIN current_registry USING (registry_version)
),
principal_rules AS (
  SELECT r.match_kind, r.match_key, r.regex, r.department, r.specificity, r.rule_order
  FROM registry_principals AS r
  JOIN current_registry USING (registry_version)
),
partners AS (
  SELECT p.partner, p.match_kind, p.value
  FROM registry_partners AS p
  JOIN current_registry USING (registry_version)
),
principal_values AS (
  SELECT
    principal,
    IF(
      REGEXP_CONTAINS(TRIM(principal), r'^(user|serviceAccount|group):') AND STRPOS(principal, '://') = 0,
      REGEXP_REPLACE(TRIM(principal), r'^(user|serviceAccount|group):', ''),
      TRIM(principal)
    ) AS value
  FROM (SELECT DISTINCT principal FROM sink_entries WHERE entry_kind IN ('job', 'table_read'))
),
principal_emails AS (
  SELECT
    principal,
    value,
    STARTS_WITH(value, 'principal://') AS federated,
    LOWER(value) AS email,
    REGEXP_CONTAINS(LOWER(value), r'^.+@[^@]+$') AS is_email,
    REGEXP_EXTRACT(LOWER(value), r'@([^@]+)$') AS domain
  FROM principal_values
),
service_accounts AS (
  -- NAME@PROJECT.iam.gserviceaccount.com; NAME@P.DOMAIN.iam.gserviceaccount.com is DOMAIN:P.
  SELECT
    principal,
    IF(STRPOS(host, '.') = 0, host, CONCAT(SUBSTR(host, STRPOS(host, '.') + 1), ':', SUBSTR(host, 1, STRPOS(host, '.') - 1))) AS sa_project
  FROM (
    SELECT principal, SUBSTR(domain, 1, LENGTH(domain) - LENGTH('.iam.gserviceaccount.com')) AS host
    FROM principal_emails
    WHERE is_email AND NOT federated AND ENDS_WITH(domain, '.iam.gserviceaccount.com')
  )
),
-- attribute.ts googleAccount: Google's default accounts and service agents act for the project
-- they name, by id or by number, and *@system.gserviceaccount.com for Google's own systems.
google_accounts AS (
  SELECT
    principal,
    CASE
      WHEN domain = 'system.gserviceaccount.com' THEN 'system'
      WHEN domain = 'appspot.gserviceaccount.com' THEN IF(local = '', NULL, 'project')
      WHEN number IS NOT NULL THEN 'number'
    END AS account,
    IF(domain = 'appspot.gserviceaccount.com', local, NULL) AS account_project,
    number
  FROM (
    SELECT
      principal,
      domain,
      REGEXP_EXTRACT(email, r'^(.*)@[^@]*$') AS local,
      CASE
        WHEN domain = 'developer.gserviceaccount.com' THEN REGEXP_EXTRACT(email, r'^(\d+)-compute@[^@]*$')
        WHEN domain IN ('cloudservices.gserviceaccount.com', 'cloudbuild.gserviceaccount.com')
          THEN REGEXP_EXTRACT(email, r'^(\d+)@[^@]*$')
        -- service agents (gcp-sa-*) and the legacy agent domains
        WHEN REGEXP_CONTAINS(domain, r'^gcp-sa-[a-z0-9-]+\.iam\.gserviceaccount\.com$')
          OR REGEXP_CONTAINS(domain, r'^(?:compute-system|container-engine-robot|dataflow-service-producer-prod|serverless-robot-prod)\.iam\.gserviceaccount\.com$')
          THEN REGEXP_EXTRACT(email, r'^service-p?(\d+)@[^@]*$')
      END AS number
    FROM principal_emails
    WHERE is_email AND NOT federated AND ENDS_WITH(domain, 'gserviceaccount.com')
  )
),
google_projects AS (
  SELECT g.principal, g.account, COALESCE(g.account_project, numbered.project) AS project, g.number
  FROM google_accounts AS g
  LEFT JOIN projects AS numbered ON numbered.project_number = g.number
  WHERE g.account IS NOT NULL
),
exact_matches AS (
  SELECT e.principal, ANY_VALUE(r.department) AS department
  FROM principal_emails AS e
  JOIN principal_rules AS r ON r.match_kind = 'exact' AND r.match_key = IF(e.federated, e.value, e.email)
  GROUP BY e.principal
),
pattern_matches AS (
  SELECT e.principal, ARRAY_AGG(r.department ORDER BY r.specificity DESC, r.rule_order LIMIT 1)[OFFSET(0)] AS department
  FROM principal_emails AS e
  JOIN principal_rules AS r
    ON (r.match_kind = 'domain' AND r.match_key = e.domain)
    OR (r.match_kind = 'subdomain' AND ENDS_WITH(e.domain, CONCAT('.', r.match_key)))
    OR (r.match_kind = 'glob' AND REGEXP_CONTAINS(e.email, r.regex))
  WHERE e.is_email AND NOT e.federated
  GROUP BY e.principal
),
organization_matches AS (
  SELECT DISTINCT e.principal
  FROM principal_emails AS e
  CROSS JOIN current_registry
  CROSS JOIN UNNEST(current_registry.domains) AS ours
  WHERE e.domain = ours OR ENDS_WITH(e.domain, CONCAT('.', ours))
),
partner_domain_matches AS (
  SELECT e.principal, ARRAY_AGG(p.partner ORDER BY LENGTH(p.value) DESC LIMIT 1)[OFFSET(0)] AS partner
  FROM principal_emails AS e
  JOIN partners AS p ON p.match_kind = 'domain' AND (e.domain = p.value OR ENDS_WITH(e.domain, CONCAT('.', p.value)))
  GROUP BY e.principal
),
consumers AS (
  SELECT
    e.principal,
    CASE
      WHEN e.value = '' THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>('unassigned', 'unknown', NULL, NULL)
      WHEN e.federated AND x.department IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(x.department, 'registered', NULL, NULL)
      WHEN e.federated OR NOT e.is_email THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>('unassigned', 'unknown', NULL, NULL)
      WHEN x.department IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(x.department, 'registered', NULL, NULL)
      WHEN m.department IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(m.department, 'registered', NULL, NULL)
      WHEN g.account IS NOT NULL AND g_owner.department IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(g_owner.department, 'service_account', NULL, NULL)
      WHEN g.account IS NOT NULL AND g_partner.partner IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(CONCAT('external:', e.domain), 'partner', g_partner.partner, NULL)
      -- an App Engine account names its project: not one of ours, it is an outsider's
      WHEN g.account = 'project' THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(CONCAT('external:', e.domain), 'external', NULL, NULL)
      WHEN g.account IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>('unassigned', 'google_agent', NULL, g.number)
      WHEN sa_owner.department IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(sa_owner.department, 'service_account', NULL, NULL)
      WHEN sa_partner.partner IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(CONCAT('external:', e.domain), 'partner', sa_partner.partner, NULL)
      WHEN o.principal IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>('unassigned', 'organization', NULL, NULL)
      WHEN d.partner IS NOT NULL THEN STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(CONCAT('external:', e.domain), 'partner', d.partner, NULL)
      ELSE STRUCT<department STRING, kind STRING, partner STRING, project_number STRING>(CONCAT('external:', e.domain), 'external', NULL, NULL)
    END AS consumer
  FROM principal_emails AS e
  LEFT JOIN exact_matches AS x USING (principal)
  LEFT JOIN pattern_matches AS m USING (principal)
  LEFT JOIN google_projects AS g USING (principal)
  LEFT JOIN projects AS g_owner ON g_owner.project = g.project
  LEFT JOIN (SELECT value, ANY_VALUE(partner) AS partner FROM partners WHERE match_kind = 'billing_project' GROUP BY value) AS g_partner
    ON g_partner.value = g.project
  LEFT JOIN service_accounts AS sa USING (principal)
  LEFT JOIN projects AS sa_owner ON sa_owner.project = sa.sa_project
  LEFT JOIN (SELECT value, ANY_VALUE(partner) AS partner FROM partners WHERE match_kind = 'billing_project' GROUP BY value) AS sa_partner
    ON sa_partner.value = sa.sa_project
  LEFT JOIN organization_matches AS o USING (principal)
  LEFT JOIN partner_domain_matches AS d USING (principal)
)
SELECT principal, consumer.department, consumer.kind, consumer.partner, consumer.project_number
FROM consumers
