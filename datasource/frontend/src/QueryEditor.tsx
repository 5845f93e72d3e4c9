import React, { ChangeEvent } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, MultiSelect, RadioButtonGroup, Select, TextArea } from '@grafana/ui';

import type { DataSource } from './datasource';
import { alertMetrics, costDimensions, deployDimensions, deployMetrics, FurrowOptions, FurrowQuery, QueryType, QueryTypes, trafficClasses } from './types';

type Props = QueryEditorProps<DataSource, FurrowQuery, FurrowOptions>;

const typeOptions: Array<SelectableValue<QueryType>> = [
  { label: 'Top talkers', value: QueryTypes.TopTalkers, description: 'Pairs of namespaces, workloads or zones by transfer bytes and cost' },
  { label: 'Cost per day', value: QueryTypes.CostPerDay, description: 'Transfer cost per UTC day and traffic class' },
  { label: 'Before/after', value: QueryTypes.BeforeAfter, description: 'The week before a change against the week after' },
  { label: 'Zone skew', value: QueryTypes.ZoneSkew, description: 'Workloads whose traffic leaves the zones their pods are in' },
  { label: 'Change dates', value: QueryTypes.Changes, description: 'Annotations at the dates of changes you mark' },
  { label: 'Cost breakdown', value: QueryTypes.Cost, description: 'The allocated bill by team, project, namespace… per hour, day or month' },
  { label: 'Cost: network', value: QueryTypes.CostNetwork, description: 'Data transfer and NAT on the bill against what went to sending namespaces' },
  { label: 'Cost: month to date', value: QueryTypes.CostSummary, description: 'Month to date and forecast per team, as of the end of the time range' },
  { label: 'Cost anomalies', value: QueryTypes.CostAnomalies, description: 'Unintended increases per owner and service (annotations or a table)' },
  { label: 'Alerts', value: QueryTypes.Alerts, description: 'Alert history: fired, resolved, firing per step or over the range, time to resolve' },
  { label: 'Alerts as annotations', value: QueryTypes.AlertAnnotations, description: 'Each alert from fired to resolved, on the graphs' },
  { label: 'Deploys', value: QueryTypes.Deploys, description: 'Deploy metrics: per period, failure causes, action types, duration, failure rate, DORA' },
  { label: 'Deploys as annotations', value: QueryTypes.DeployAnnotations, description: 'Deploys, rollbacks, restarts and scale events on the graphs' },
  { label: 'SQL', value: QueryTypes.SQL, description: 'Read-only ClickHouse SQL with the ClickHouse datasource macros' },
];

// QueryEditor: furrow's reports need no SQL; SQL is there for the rest.
export function QueryEditor({ query, onChange, onRunQuery }: Props) {
  const q = { ...query, queryType: query.queryType ?? QueryTypes.TopTalkers };
  const set = (patch: Partial<FurrowQuery>, run = true) => {
    onChange({ ...q, ...patch });
    if (run) {
      onRunQuery();
    }
  };
  const text = (
    key: 'cluster' | 'namespace' | 'workload' | 'at' | 'window' | 'team' | 'project' | 'service' | 'currency' | 'alertname' | 'environment' | 'within' | 'actions',
    label: string,
    placeholder: string
  ) => (
    <InlineField label={label} labelWidth={12}>
      <Input
        width={24}
        value={q[key] ?? ''}
        placeholder={placeholder}
        onChange={(e: ChangeEvent<HTMLInputElement>) => set({ [key]: e.currentTarget.value }, false)}
        onBlur={onRunQuery}
      />
    </InlineField>
  );
  const trafficReports: QueryType[] = [QueryTypes.TopTalkers, QueryTypes.CostPerDay, QueryTypes.BeforeAfter, QueryTypes.ZoneSkew];
  const isReport = trafficReports.includes(q.queryType);
  const by = (q.by ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  return (
    <>
      <InlineFieldRow>
        <InlineField label="Query" labelWidth={12}>
          <Select width={30} options={typeOptions} value={q.queryType} onChange={(v) => set({ queryType: v.value })} />
        </InlineField>
        {q.queryType === QueryTypes.CostAnomalies && (
          <InlineField label="Show as" labelWidth={12}>
            <RadioButtonGroup
              options={[
                { label: 'Annotations', value: 'annotations' },
                { label: 'Table', value: 'table' },
              ]}
              value={q.format === 'table' ? 'table' : 'annotations'}
              onChange={(v) => set({ format: v === 'table' ? 'table' : undefined })}
            />
          </InlineField>
        )}
        {(q.queryType === QueryTypes.SQL || q.queryType === QueryTypes.CostPerDay || q.queryType === QueryTypes.Cost || q.queryType === QueryTypes.Alerts || q.queryType === QueryTypes.Deploys) && (
          <InlineField label="Format" labelWidth={12}>
            <RadioButtonGroup
              options={[
                { label: 'Time series', value: 'time_series' },
                { label: 'Table', value: 'table' },
              ]}
              value={q.format ?? (q.queryType === QueryTypes.CostPerDay ? 'time_series' : 'table')}
              disabled={
                (q.queryType === QueryTypes.Cost && !q.granularity) ||
                (q.queryType === QueryTypes.Alerts && q.metric === 'resolve_time') ||
                (q.queryType === QueryTypes.Deploys && (q.metric ?? 'deploys_per_period') !== 'deploys_per_period')
              }
              onChange={(v) => set({ format: v as FurrowQuery['format'] })}
            />
          </InlineField>
        )}
      </InlineFieldRow>
      {q.queryType === QueryTypes.SQL && (
        <TextArea
          rows={8}
          value={q.rawSql ?? ''}
          placeholder="SELECT $__timeInterval(hour) AS time, traffic_class, sum(cost_usd) AS cost FROM flow_traffic_hourly WHERE $__timeFilter(hour) GROUP BY time, traffic_class ORDER BY time"
          onChange={(e: ChangeEvent<HTMLTextAreaElement>) => set({ rawSql: e.currentTarget.value }, false)}
          onBlur={onRunQuery}
        />
      )}
      {q.queryType === QueryTypes.TopTalkers && (
        <InlineField label="By" labelWidth={12}>
          <RadioButtonGroup
            options={[
              { label: 'Namespace', value: 'namespace' },
              { label: 'Workload', value: 'workload' },
              { label: 'Zone', value: 'zone' },
              { label: 'Team', value: 'team' },
            ]}
            value={q.by ?? 'namespace'}
            onChange={(v) => set({ by: v as FurrowQuery['by'] })}
          />
        </InlineField>
      )}
      {isReport && (
        <>
          <InlineFieldRow>
            {text('cluster', 'Cluster', 'all, or $cluster')}
            {text('namespace', 'Namespace', 'all, or $namespace')}
            {q.queryType !== QueryTypes.ZoneSkew && text('workload', 'Workload', 'all')}
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField label="Classes" labelWidth={12}>
              <MultiSelect
                width={50}
                options={trafficClasses.map((c) => ({ label: c, value: c }))}
                value={q.classes ?? []}
                placeholder="cross-zone"
                allowCustomValue
                onChange={(v) => set({ classes: v.map((x) => x.value as string) })}
              />
            </InlineField>
            {(q.queryType === QueryTypes.TopTalkers || q.queryType === QueryTypes.ZoneSkew) && (
              <InlineField label="Limit" labelWidth={12}>
                <Input
                  width={10}
                  type="number"
                  value={q.limit ?? 20}
                  onChange={(e: ChangeEvent<HTMLInputElement>) => set({ limit: Number(e.currentTarget.value) || undefined }, false)}
                  onBlur={onRunQuery}
                />
              </InlineField>
            )}
          </InlineFieldRow>
        </>
      )}
      {q.queryType === QueryTypes.Cost && (
        <>
          <InlineFieldRow>
            <InlineField label="By" labelWidth={12} tooltip="Dimensions, in order; none: the total per kind (allocated, idle, shared, unowned)">
              <MultiSelect
                width={50}
                options={costDimensions.map((d) => ({ label: d, value: d }))}
                value={by}
                placeholder="team, project, namespace"
                onChange={(v) => set({ by: v.map((x) => x.value as string).join(',') })}
              />
            </InlineField>
            <InlineField label="Step" labelWidth={12} tooltip="A time series needs a step">
              <RadioButtonGroup
                options={[
                  { label: 'Whole range', value: '' },
                  { label: 'Hour', value: 'hour' },
                  { label: 'Day', value: 'day' },
                  { label: 'Month', value: 'month' },
                ]}
                value={q.granularity ?? ''}
                onChange={(v) => set({ granularity: v as FurrowQuery['granularity'], ...(v ? {} : { format: 'table' as const }) })}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField label="Metric" labelWidth={12} tooltip="Billed as invoiced, or effective (commitments amortized)">
              <RadioButtonGroup
                options={[
                  { label: 'Billed', value: 'billed' },
                  { label: 'Effective', value: 'effective' },
                ]}
                value={q.metric ?? 'billed'}
                onChange={(v) => set({ metric: v as FurrowQuery['metric'] })}
              />
            </InlineField>
            <InlineField label="Shared" labelWidth={12} tooltip="Shared namespaces' cost spread over the owners, or shown apart">
              <RadioButtonGroup
                options={[
                  { label: 'Spread', value: 'spread' },
                  { label: 'Apart', value: 'apart' },
                ]}
                value={q.shared ?? 'spread'}
                onChange={(v) => set({ shared: v as FurrowQuery['shared'] })}
              />
            </InlineField>
            <InlineField label="Limit" labelWidth={12} tooltip="Rows per time and currency, largest first; empty: all">
              <Input
                width={10}
                type="number"
                value={q.limit ?? ''}
                onChange={(e: ChangeEvent<HTMLInputElement>) => set({ limit: Number(e.currentTarget.value) || undefined }, false)}
                onBlur={onRunQuery}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            {text('team', 'Team', 'all, or $team (code)')}
            {text('project', 'Project', 'all')}
            {text('namespace', 'Namespace', 'all, or $namespace')}
          </InlineFieldRow>
          <InlineFieldRow>
            {text('service', 'Service', 'all, e.g. Amazon EC2')}
            {text('currency', 'Currency', 'all, e.g. USD')}
          </InlineFieldRow>
        </>
      )}
      {q.queryType === QueryTypes.Alerts && (
        <InlineFieldRow>
          <InlineField label="Metric" labelWidth={12} tooltip="Episodes that began, ended, or were firing in each step; time to resolve is a table">
            <RadioButtonGroup
              options={alertMetrics.map((m) => ({ label: m.replace('_', ' '), value: m }))}
              value={q.metric ?? 'fired'}
              onChange={(v) => set({ metric: v as FurrowQuery['metric'], ...(v === 'resolve_time' ? { format: 'table' as const } : {}) })}
            />
          </InlineField>
          <InlineField label="By" labelWidth={12}>
            <RadioButtonGroup
              options={[
                { label: 'Namespace', value: 'namespace' },
                { label: 'Alert name', value: 'alertname' },
                { label: 'Both', value: 'namespace,alertname' },
                { label: 'None', value: 'none' },
              ]}
              value={q.by ?? 'none'}
              onChange={(v) => set({ by: v as string })}
            />
          </InlineField>
          <InlineField label="Step" labelWidth={12} tooltip="Of a time series; empty: Grafana's interval">
            <RadioButtonGroup
              options={[
                { label: 'Auto', value: '' },
                { label: 'Hour', value: 'hour' },
                { label: 'Day', value: 'day' },
              ]}
              value={q.granularity ?? ''}
              onChange={(v) => set({ granularity: v as FurrowQuery['granularity'] })}
            />
          </InlineField>
        </InlineFieldRow>
      )}
      {(q.queryType === QueryTypes.Alerts || q.queryType === QueryTypes.AlertAnnotations) && (
        <InlineFieldRow>
          {text('namespace', 'Namespace', 'all, or $namespace')}
          {text('alertname', 'Alert name', 'all, or $alertname')}
        </InlineFieldRow>
      )}
      {q.queryType === QueryTypes.Deploys && (
        <InlineFieldRow>
          <InlineField label="Metric" labelWidth={12} tooltip="Operating metrics and DORA's four keys over deploy_actions">
            <Select
              width={30}
              options={deployMetrics.map((m) => ({ label: m.replace(/_/g, ' '), value: m }))}
              value={q.metric ?? 'deploys_per_period'}
              onChange={(v) => set({ metric: v.value, ...(v.value !== 'deploys_per_period' ? { format: 'table' as const } : {}) })}
            />
          </InlineField>
          <InlineField label="By" labelWidth={12}>
            <MultiSelect
              width={40}
              options={deployDimensions.map((d) => ({ label: d, value: d }))}
              value={by}
              onChange={(v) => set({ by: v.map((o) => o.value).join(',') })}
            />
          </InlineField>
          {(q.metric ?? 'deploys_per_period') === 'deploys_per_period' && (
            <InlineField label="Period" labelWidth={12}>
              <RadioButtonGroup
                options={[
                  { label: 'Day', value: 'day' },
                  { label: 'Week', value: 'week' },
                ]}
                value={q.granularity || 'day'}
                onChange={(v) => set({ granularity: v as FurrowQuery['granularity'] })}
              />
            </InlineField>
          )}
          {q.metric === 'change_failure_rate' && text('within', 'Within', '24h')}
        </InlineFieldRow>
      )}
      {(q.queryType === QueryTypes.Deploys || q.queryType === QueryTypes.DeployAnnotations) && (
        <InlineFieldRow>
          {text('project', 'Project', 'all, or $project')}
          {text('environment', 'Environment', 'all, or $environment')}
          {text('team', 'Team', 'all')}
          {q.queryType === QueryTypes.DeployAnnotations && text('actions', 'Actions', 'all, or deploy,rollback,restart,scale')}
        </InlineFieldRow>
      )}
      {(q.queryType === QueryTypes.BeforeAfter || q.queryType === QueryTypes.Changes) && (
        <InlineFieldRow>
          {text('at', q.queryType === QueryTypes.Changes ? 'Dates' : 'Change at', q.queryType === QueryTypes.Changes ? '2026-11-02, 2026-11-20T14:00:00Z' : '2026-11-02 or $change')}
          {q.queryType === QueryTypes.BeforeAfter && text('window', 'Window', '7d')}
        </InlineFieldRow>
      )}
    </>
  );
}
