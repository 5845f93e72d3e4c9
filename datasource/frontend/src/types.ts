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
  Cost: 'cost',
  CostNetwork: 'cost_network',
  CostSummary: 'cost_summary',
  CostAnomalies: 'cost_anomalies',
  Alerts: 'alerts',
  AlertAnnotations: 'alert_annotations',
  Deploys: 'deploys',
  DeployAnnotations: 'deploy_annotations',
} as const;

export type QueryType = (typeof QueryTypes)[keyof typeof QueryTypes];

// FurrowQuery is datasource.Query in Go: keep the two in step.
export interface FurrowQuery extends DataQuery {
  queryType?: QueryType;
  rawSql?: string;
  format?: 'table' | 'time_series' | 'annotations';
  // by: top_talkers' grouping (namespace, workload, zone, team); cost's
  // dimensions, comma-separated (team,project,namespace).
  by?: string;
  classes?: string[];
  cluster?: string;
  namespace?: string;
  workload?: string;
  at?: string;
  window?: string;
  limit?: number;
  // granularity: also the period of the deploys_per_period metric.
  granularity?: '' | 'hour' | 'day' | 'week' | 'month';
  // metric: cost's billed or effective; alerts' fired, resolved, firing
  // or resolve_time (a table); a deploy metric (deployMetrics).
  metric?: 'billed' | 'effective' | AlertMetric | DeployMetric;
  shared?: 'spread' | 'apart';
  team?: string;
  project?: string;
  service?: string;
  currency?: string;
  // alertname narrows the alert history (with namespace).
  alertname?: string;
  // The deploy query types' filters (with project and team): lists, All
  // or empty for every one; within is change_failure_rate's window
  // (24h); actions the kinds deploy_annotations shows.
  environment?: string;
  source?: string;
  within?: string;
  actions?: string;
  values?: ValueList;
  adHocFilters?: AdHocFilter[];
}

// The lists a values query (a template variable) takes.
export const valueLists = ['clusters', 'namespaces', 'workloads', 'zones', 'classes', 'teams', 'cost_teams', 'services', 'alert_namespaces', 'alertnames', 'deploy_projects', 'deploy_environments'] as const;
export type ValueList = (typeof valueLists)[number];

// The dimensions of a cost breakdown (furrow's query/cost).
export const costDimensions = ['team', 'project', 'namespace', 'workload', 'cluster', 'service', 'account', 'billing_account', 'region', 'usage_type', 'category', 'rule'];

// The measures of an alerts query (datasource/alerts.go).
export const alertMetrics = ['fired', 'resolved', 'firing', 'resolve_time'] as const;
export type AlertMetric = (typeof alertMetrics)[number];

// The deploy metrics (query/deploys) and their breakdowns.
export const deployMetrics = [
  'deploys_per_period',
  'failure_causes',
  'action_ratio',
  'duration',
  'failure_rate',
  'deployment_frequency',
  'lead_time',
  'change_failure_rate',
  'time_to_restore',
] as const;
export type DeployMetric = (typeof deployMetrics)[number];
export const deployDimensions = ['project', 'service', 'team', 'environment', 'source'];

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
