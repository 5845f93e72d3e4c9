import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ALL, interpolateQuery, plainValue, sqlValue } from './interpolate';
import { QueryTypes } from './types';

// A stand-in for Grafana's template service: ${name} replaced through the
// formatter, as getTemplateSrv().replace does.
function replacer(vars: Record<string, string | string[]>) {
  return (target: string, format?: string | Function) =>
    target.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a, b) => {
      const name = a ?? b;
      if (!(name in vars)) {
        return m;
      }
      return typeof format === 'function' ? format(vars[name]) : String(vars[name]);
    });
}

test('sqlValue quotes several values and keeps one as is', () => {
  assert.equal(sqlValue('checkout'), 'checkout');
  assert.equal(sqlValue(['a']), 'a');
  assert.equal(sqlValue(['a', "o'b"]), "'a','o\\'b'");
  assert.equal(sqlValue(['a', ALL]), ALL);
});

test('plainValue joins values and keeps All', () => {
  assert.equal(plainValue(['cross-zone', 'same-zone']), 'cross-zone,same-zone');
  assert.equal(plainValue([ALL]), ALL);
});

test('interpolateQuery fills SQL and builder fields', () => {
  const replace = replacer({ namespace: ['checkout', 'cart'], cluster: ALL, class: ['cross-zone', 'nat-gateway'], change: '2026-11-02' });
  const sql = interpolateQuery(
    { refId: 'A', queryType: QueryTypes.SQL, rawSql: "SELECT 1 WHERE src_namespace IN (${namespace}) AND $__conditionalAll(x, '${cluster}')" },
    replace
  );
  assert.equal(sql.rawSql, "SELECT 1 WHERE src_namespace IN ('checkout','cart') AND $__conditionalAll(x, '$__all')");

  const report = interpolateQuery(
    { refId: 'B', queryType: QueryTypes.BeforeAfter, namespace: '${namespace}', cluster: '${cluster}', classes: ['${class}'], at: '${change}' },
    replace,
    [{ key: 'src_zone', operator: '=', value: 'eu-west-1a' }]
  );
  assert.equal(report.namespace, 'checkout,cart');
  assert.equal(report.cluster, ALL);
  assert.deepEqual(report.classes, ['cross-zone', 'nat-gateway']);
  assert.equal(report.at, '2026-11-02');
  assert.deepEqual(report.adHocFilters, [{ key: 'src_zone', operator: '=', value: 'eu-west-1a' }]);
});

test('interpolateQuery fills the cost fields; All stays $__all', () => {
  const replace = replacer({ team: ALL, project: 'p-shop', dims: ['team', 'project'], service: 'Amazon EC2', currency: 'EUR' });
  const q = interpolateQuery(
    { refId: 'C', queryType: QueryTypes.Cost, by: '${dims}', team: '${team}', project: '${project}', service: '${service}', currency: '${currency}', granularity: 'day' },
    replace
  );
  assert.equal(q.by, 'team,project');
  assert.equal(q.team, ALL);
  assert.equal(q.project, 'p-shop');
  assert.equal(q.service, 'Amazon EC2');
  assert.equal(q.currency, 'EUR');
  assert.equal(q.granularity, 'day');
});

test('interpolateQuery fills the alert history filters', () => {
  const replace = replacer({ namespace: ['cart', 'orders'], alertname: ALL });
  const q = interpolateQuery({ refId: 'A', queryType: QueryTypes.Alerts, namespace: '${namespace}', alertname: '$alertname', metric: 'fired' }, replace);
  assert.equal(q.namespace, 'cart,orders');
  assert.equal(q.alertname, ALL);
  assert.equal(q.metric, 'fired');
});

test('interpolateQuery fills the deploy filters', () => {
  const replace = replacer({ project: ['shop', 'api'], environment: ALL });
  const q = interpolateQuery(
    { refId: 'A', queryType: QueryTypes.Deploys, project: '$project', environment: '${environment}', actions: 'deploy,rollback', metric: 'failure_rate' },
    replace
  );
  assert.equal(q.project, 'shop,api');
  assert.equal(q.environment, ALL);
  assert.equal(q.actions, 'deploy,rollback');
  assert.equal(q.metric, 'failure_rate');
});
