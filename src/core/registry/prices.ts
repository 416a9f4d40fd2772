// The registry's `prices:` section: the built-in price book's shape, amounts read exactly from
// their source text.
import type { Node } from "yaml";
import { isLocation, LOCATION_EXPECTED } from "../identifiers.ts";
import {
  EDITIONS,
  type EditionPrice,
  editionKey,
  type ModelCreationPrice,
  modelCreationKey,
  normaliseLocation,
  type OnDemandPrice,
  onDemandKey,
  type PriceBook,
  STORAGE_CLASSES,
  type StorageClass,
  type StoragePrice,
  storageKey,
} from "../pricebook.ts";
import { type Fields, pattern, type YamlReader } from "./yaml-reader.ts";

const LOCATION = { test: isLocation, expected: LOCATION_EXPECTED };
const SOURCE = pattern(/^.{1,500}$/, "text");
/** A BigQuery ML model type as OPTIONS(model_type=...) spells it; compared in upper case. */
const MODEL_TYPE = pattern(/^[A-Za-z_]{1,64}$/, "a model type such as LINEAR_REG");
const CLASSES = Object.keys(STORAGE_CLASSES) as StorageClass[];

export function readPrices(r: YamlReader, node: unknown): Partial<PriceBook> {
  const prices = r.map(node, "prices", ["on_demand", "editions", "storage", "model_creation"]);
  const location = (n: unknown, field: string) => normaliseLocation(r.scalar(n, field, LOCATION));
  const source = (entry: Fields, field: string) =>
    entry.has("source") ? r.scalar(entry.get("source"), `${field}.source`, SOURCE) : `registry ${field}`;
  /** Two entries for the same series and day would make the price ambiguous. */
  const unique = <T>(list: T[], nodes: Node[], key: (entry: T) => string, field: string): T[] => {
    const seen = new Set<string>();
    list.forEach((entry, i) => {
      const k = key(entry);
      if (seen.has(k))
        r.fail(nodes[i], `${field}[${i}]`, "duplicate entry: same location and from date as an earlier one");
      seen.add(k);
    });
    return list;
  };

  const onDemandNodes = r.list(prices.get("on_demand"), "prices.on_demand");
  const onDemand: OnDemandPrice[] = onDemandNodes.map((n, i) => {
    const field = `prices.on_demand[${i}]`;
    const e = r.map(
      n,
      field,
      ["location", "from", "usd_per_tib", "source"],
      ["location", "from", "usd_per_tib"],
    );
    return {
      location: location(e.get("location"), `${field}.location`),
      from: r.date(e.get("from"), `${field}.from`),
      usdPerTib: r.usd(e.get("usd_per_tib"), `${field}.usd_per_tib`),
      source: source(e, field),
    };
  });

  const editionNodes = r.list(prices.get("editions"), "prices.editions");
  const editions: EditionPrice[] = editionNodes.map((n, i) => {
    const field = `prices.editions[${i}]`;
    const e = r.map(
      n,
      field,
      ["edition", "location", "from", "usd_per_slot_hour", "source"],
      ["edition", "location", "from", "usd_per_slot_hour"],
    );
    return {
      edition: r.oneOf(e.get("edition"), `${field}.edition`, EDITIONS),
      location: location(e.get("location"), `${field}.location`),
      from: r.date(e.get("from"), `${field}.from`),
      usdPerSlotHour: r.usd(e.get("usd_per_slot_hour"), `${field}.usd_per_slot_hour`),
      source: source(e, field),
    };
  });

  const storageNodes = r.list(prices.get("storage"), "prices.storage");
  const storage: StoragePrice[] = storageNodes.map((n, i) => {
    const field = `prices.storage[${i}]`;
    const e = r.map(n, field, ["location", "from", ...CLASSES, "source"], ["location", "from", ...CLASSES]);
    const place = {
      location: location(e.get("location"), `${field}.location`),
      from: r.date(e.get("from"), `${field}.from`),
    };
    const amounts = Object.fromEntries(
      CLASSES.map((name) => [STORAGE_CLASSES[name], r.usd(e.get(name), `${field}.${name}`)]),
    ) as Pick<StoragePrice, (typeof STORAGE_CLASSES)[StorageClass]>;
    return { ...place, ...amounts, source: source(e, field) };
  });

  const modelNodes = r.list(prices.get("model_creation"), "prices.model_creation");
  const modelCreation: ModelCreationPrice[] = modelNodes.map((n, i) => {
    const field = `prices.model_creation[${i}]`;
    const e = r.map(
      n,
      field,
      ["model_type", "location", "from", "usd_per_tib", "source"],
      ["model_type", "location", "from", "usd_per_tib"],
    );
    return {
      modelType: r.scalar(e.get("model_type"), `${field}.model_type`, MODEL_TYPE).toUpperCase(),
      location: location(e.get("location"), `${field}.location`),
      from: r.date(e.get("from"), `${field}.from`),
      usdPerTib: r.usd(e.get("usd_per_tib"), `${field}.usd_per_tib`),
      source: source(e, field),
    };
  });

  return {
    modelCreation: unique(modelCreation, modelNodes, modelCreationKey, "prices.model_creation"),
    onDemand: unique(onDemand, onDemandNodes, onDemandKey, "prices.on_demand"),
    editions: unique(editions, editionNodes, editionKey, "prices.editions"),
    storage: unique(storage, storageNodes, storageKey, "prices.storage"),
  };
}
