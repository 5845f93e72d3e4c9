import { CustomVariableSupport, DataQueryRequest, DataQueryResponse, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';
import { Observable } from 'rxjs';

import { interpolateQuery } from './interpolate';
import { FurrowOptions, FurrowQuery, QueryTypes } from './types';
import { VariableQueryEditor } from './VariableQueryEditor';

// DataSource sends queries to the plugin's backend after applying the
// dashboard's variables and ad hoc filters (Grafana leaves that to the
// frontend of a backend datasource).
export class DataSource extends DataSourceWithBackend<FurrowQuery, FurrowOptions> {
  constructor(settings: DataSourceInstanceSettings<FurrowOptions>) {
    super(settings);
    this.variables = new FurrowVariableSupport(this);
    // Annotations use the query editor; the "changes" type marks dates,
    // "cost_anomalies" the days of unintended cost increases.
    this.annotations = {};
  }

  applyTemplateVariables(query: FurrowQuery, scopedVars: ScopedVars, filters?: Array<{ key: string; operator: string; value: string }>): FurrowQuery {
    const srv = getTemplateSrv();
    return interpolateQuery(query, (target, format) => srv.replace(target, scopedVars, format as any), filters ?? []);
  }

  filterQuery(query: FurrowQuery): boolean {
    if (query.hide) {
      return false;
    }
    return query.queryType !== QueryTypes.SQL || (query.rawSql ?? '').trim() !== '';
  }

  getDefaultQuery(): Partial<FurrowQuery> {
    return { queryType: QueryTypes.TopTalkers, by: 'namespace', limit: 20, format: 'table' };
  }
}

// Template variables list clusters, namespaces, workloads, zones or
// classes through the backend's values query.
class FurrowVariableSupport extends CustomVariableSupport<DataSource, FurrowQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly ds: DataSource) {
    super();
  }

  query(request: DataQueryRequest<FurrowQuery>): Observable<DataQueryResponse> {
    const targets = request.targets.map((t) => ({ ...t, queryType: QueryTypes.Values }));
    return this.ds.query({ ...request, targets });
  }
}
