// The registry and its price book as rows of BigQuery tables (sql/sink/ddl), so SQL attributes
// and prices from the same data the TypeScript core reads: one compiled Registry, two readers.
// Every row carries the registry version it belongs to; a push adds a version, never edits one.
import { createHash } from "node:crypto";
import type {
  EditionPrice,
  ModelCreationPrice,
  OnDemandPrice,
  PriceBook,
  StoragePrice,
} from "./pricebook.ts";
import type { Registry } from "./registry.ts";
import { STORAGE_READ_PRICES } from "./storage-read.ts";

export type TableRow = Record<string, string | number | bigint | boolean | null | string[]>;

/** Table name -> rows, for every table of sql/sink/ddl that describes the registry. */
export type RegistryTables = Record<RegistryTableName, TableRow[]>;

export const REGISTRY_TABLES = [
  "registry_versions",
  "registry_departments",
  "registry_projects",
  "registry_principals",
  "registry_partners",
  "registry_reservations",
  "registry_labels",
  "price_book",
] as const;
export type RegistryTableName = (typeof REGISTRY_TABLES)[number];

export interface RegistryVersion {
  /** Content hash of the registry rows (see registryVersion in src/cloud/registry-push.ts). */
  version: string;
  pushedAt: string;
  /** Where the registry came from (file name or gs:// URL): for the reader, not for the rules. */
  source: string;
  /** IANA zone of billing days, as the CLI's --timezone. */
  timeZone: string;
}

/** Price-book items: one row per figure, so a series is (item, location) as in pricebook.ts. */
export const PRICE_ITEMS = {
  onDemand: "on_demand_per_tib",
  storageRead: "streaming_read_per_tib",
  edition: (edition: string) => `${edition}_per_slot_hour`,
  /** BigQuery ML model creation, per model type: `model_creation_LINEAR_REG_per_tib`. */
  modelCreation: (modelType: string) => `model_creation_${modelType}_per_tib`,
  storage: {
    activeLogical: "storage_active_logical_per_gib_month",
    longTermLogical: "storage_long_term_logical_per_gib_month",
    activePhysical: "storage_active_physical_per_gib_month",
    longTermPhysical: "storage_long_term_physical_per_gib_month",
  },
} as const;

function priceRow(
  item: string,
  entry: OnDemandPrice | EditionPrice | StoragePrice | ModelCreationPrice,
  nanos: bigint,
) {
  return { item, location: entry.location, from_date: entry.from, nanos, source: entry.source };
}

/** The price book as rows of price_book, without the version column; with the Storage Read API's prices. */
export function priceBookRows(book: PriceBook): TableRow[] {
  return [
    ...STORAGE_READ_PRICES.map((p) => ({
      item: PRICE_ITEMS.storageRead,
      location: p.location,
      from_date: p.from,
      nanos: p.nanosPerTib,
      source: p.source,
    })),
    ...book.onDemand.map((p) => priceRow(PRICE_ITEMS.onDemand, p, p.usdPerTib)),
    ...book.editions.map((p) => priceRow(PRICE_ITEMS.edition(p.edition), p, p.usdPerSlotHour)),
    ...book.modelCreation.map((p) => priceRow(PRICE_ITEMS.modelCreation(p.modelType), p, p.usdPerTib)),
    ...book.storage.flatMap((p) => [
      priceRow(PRICE_ITEMS.storage.activeLogical, p, p.activeLogical),
      priceRow(PRICE_ITEMS.storage.longTermLogical, p, p.longTermLogical),
      priceRow(PRICE_ITEMS.storage.activePhysical, p, p.activePhysical),
      priceRow(PRICE_ITEMS.storage.longTermPhysical, p, p.longTermPhysical),
    ]),
  ];
}

/** A content hash of rows: the same rows give the same version, so writing them again changes nothing. */
export function contentVersion(rows: unknown): string {
  const json = JSON.stringify(rows, (_, value) => (typeof value === "bigint" ? value.toString() : value));
  return createHash("sha256").update(json).digest("hex").slice(0, 16);
}

/**
 * The rows that describe the registry, without the version columns (they are added by
 * versionedRegistryTables): what the content hash is computed from.
 */
export function registryRows(registry: Registry): Omit<RegistryTables, "registry_versions"> {
  const principals: TableRow[] = [];
  for (const [key, department] of registry.exactPrincipals)
    principals.push({
      match_kind: "exact",
      match_key: key,
      regex: null,
      department,
      specificity: null,
      rule_order: null,
    });
  const pattern = (
    kind: string,
    key: string,
    target: { department: string; specificity: number; order: number },
  ) =>
    principals.push({
      match_kind: kind,
      match_key: key,
      regex: null,
      department: target.department,
      specificity: target.specificity,
      rule_order: target.order,
    });
  for (const [domain, target] of registry.domainPatterns) pattern("domain", domain, target);
  for (const [parent, target] of registry.subdomainPatterns) pattern("subdomain", parent, target);
  for (const glob of registry.principalGlobs)
    principals.push({
      match_kind: "glob",
      match_key: glob.pattern,
      // RE2 (BigQuery's REGEXP_CONTAINS) reads the same pattern as the core's RegExp.
      regex: glob.re2Pattern,
      department: glob.department,
      specificity: glob.specificity,
      rule_order: glob.order,
    });
  const prices = priceBookRows(registry.priceBook);
  const numbers = new Map([...registry.projectNumbers].map(([number, project]) => [project, number]));
  return {
    registry_departments: registry.departments.map((department, position) => ({
      department: department.id,
      name: department.name,
      position,
    })),
    registry_projects: [...registry.projectIndex].map(([project, owner]) => ({
      project,
      department: owner.department,
      kind: owner.kind,
      project_number: numbers.get(project) ?? null,
    })),
    registry_principals: principals,
    registry_partners: registry.partners.flatMap((partner) => [
      ...partner.domains.map((value) => ({ partner: partner.id, match_kind: "domain", value })),
      ...partner.billingProjects.map((value) => ({
        partner: partner.id,
        match_kind: "billing_project",
        value,
      })),
    ]),
    registry_reservations: [...registry.reservationEditions].map(([reservation, edition]) => ({
      reservation,
      edition,
    })),
    registry_labels: [...registry.labelDepartments].map(([label, department]) => {
      const key = label.slice(0, label.indexOf(":"));
      return {
        label_key: key,
        label_value: label.slice(key.length + 1),
        department,
        key_rank: registry.labelKeys.indexOf(key),
      };
    }),
    price_book: prices,
  };
}

/** Every registry table's rows for one version. */
export function versionedRegistryTables(registry: Registry, version: RegistryVersion): RegistryTables {
  const rows = registryRows(registry);
  const tag = (list: TableRow[]) => list.map((row) => ({ registry_version: version.version, ...row }));
  return {
    registry_versions: [
      {
        registry_version: version.version,
        pushed_at: version.pushedAt,
        source: version.source,
        time_zone: version.timeZone,
        domains: [...registry.domains],
      },
    ],
    registry_departments: tag(rows.registry_departments),
    registry_projects: tag(rows.registry_projects),
    registry_principals: tag(rows.registry_principals),
    registry_partners: tag(rows.registry_partners),
    registry_reservations: tag(rows.registry_reservations),
    registry_labels: tag(rows.registry_labels),
    price_book: tag(rows.price_book),
  };
}
