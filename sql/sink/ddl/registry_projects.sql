CREATE TABLE IF NOT EXISTS registry_projects (
  registry_version STRING NOT NULL,
  project STRING,
  department STRING OPTIONS (description = 'the department that pays for the project'),
  kind STRING OPTIONS (description = 'department or shared')
)
CLUSTER BY registry_version, project
OPTIONS (description = 'bq-chargeback: projects of each registry version');
