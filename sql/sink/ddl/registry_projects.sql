CREATE TABLE IF NOT EXISTS registry_projects (
  registry_version STRING NOT NULL,
  project STRING,
  department STRING OPTIONS (description = 'the department that pays for the project'),
  kind STRING OPTIONS (description = 'department or shared'),
  project_number STRING OPTIONS (description = 'from the registry\'s project_numbers, when given')
)
CLUSTER BY registry_version, project
OPTIONS (description = 'bq-chargeback: projects of each registry version');
