import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

// The query types of the plugin's backend (datasource/query.go).
export const QueryTypes = {
  SQL: 'sql',
  TopTalkers: 'top_talkers',
  CostPerDay: 'cost_per_day',
  BeforeAfter: 'before_after',
  ZoneSkew: 'zone_skew',
  Values: 'values',
  Changes: 'changes',
} as const;

export type QueryType = (typeof QueryTypes)[keyof typeof QueryTypes];

// FurrowQuery is datasource.Query in Go: keep the two in step.
export interface FurrowQuery extends DataQuery {
  queryType?: QueryType;
  rawSql?: string;
  format?: 'table' | 'time_series';
  by?: 'namespace' | 'workload' | 'zone' | 'team';
  classes?: string[];
  cluster?: string;
  namespace?: string;
  workload?: string;
  at?: string;
  window?: string;
  limit?: number;
  values?: 'clusters' | 'namespaces' | 'workloads' | 'zones' | 'classes' | 'teams';
  adHocFilters?: AdHocFilter[];
}

export interface AdHocFilter {
  key: string;
  operator: string;
  value: string;
}

// FurrowOptions are the datasource's settings (datasource.Settings).
export interface FurrowOptions extends DataSourceJsonData {
  url?: string;
  tlsSkipVerify?: boolean;
  rowLimit?: number;
}

export interface FurrowSecureOptions {
  token?: string;
  tlsCACert?: string;
}

export const defaultQuery: Partial<FurrowQuery> = {
  queryType: QueryTypes.TopTalkers,
  by: 'namespace',
  limit: 20,
  format: 'table',
};

export const trafficClasses = ['cross-zone', 'same-zone', 'nat-gateway', 'internet-egress', 'aws-service', 'all'];
