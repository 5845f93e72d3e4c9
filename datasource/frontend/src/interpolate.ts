import { AdHocFilter, FurrowQuery } from './types';

// Replace is Grafana's template replacement (getTemplateSrv().replace),
// passed in so this module stays free of Grafana's runtime (and testable
// in node).
export type Replace = (target: string, format?: string | Function) => string;

// ALL is what the backend takes as "every value" (datasource's allValue).
export const ALL = '$__all';

// sqlValue formats a variable's value for SQL: one value as is (the SQL
// quotes it where it wants), several as a list of quoted strings, for
// IN (…). All stays $__all, which $__conditionalAll understands.
export function sqlValue(value: string | string[]): string {
  if (Array.isArray(value)) {
    if (value.includes(ALL)) {
      return ALL;
    }
    if (value.length === 1) {
      return value[0];
    }
    return value.map((v) => "'" + String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'").join(',');
  }
  return value;
}

// plainValue formats a value for a builder field: one value, All as $__all.
export function plainValue(value: string | string[]): string {
  if (Array.isArray(value)) {
    return value.includes(ALL) ? ALL : value.join(',');
  }
  return value;
}

// interpolateQuery applies the dashboard's variables and ad hoc filters to
// a query before it goes to the backend.
export function interpolateQuery(q: FurrowQuery, replace: Replace, filters: AdHocFilter[] = []): FurrowQuery {
  const field = (s?: string) => (s ? replace(s, plainValue) : s);
  const out: FurrowQuery = { ...q };
  if (q.rawSql) {
    out.rawSql = replace(q.rawSql, sqlValue);
  }
  out.cluster = field(q.cluster);
  out.namespace = field(q.namespace);
  out.workload = field(q.workload);
  out.at = field(q.at);
  out.window = field(q.window);
  out.by = field(q.by);
  out.team = field(q.team);
  out.project = field(q.project);
  out.service = field(q.service);
  out.currency = field(q.currency);
  out.alertname = field(q.alertname);
  out.environment = field(q.environment);
  out.source = field(q.source);
  out.actions = field(q.actions);
  if (q.classes) {
    out.classes = q.classes.flatMap((c) => replace(c, plainValue).split(',')).filter((c) => c !== '');
  }
  if (filters.length > 0) {
    out.adHocFilters = filters.map((f) => ({ key: f.key, operator: f.operator, value: f.value }));
  }
  return out;
}
