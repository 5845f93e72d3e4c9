import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './ConfigEditor';
import { DataSource } from './datasource';
import { QueryEditor } from './QueryEditor';
import { FurrowOptions, FurrowQuery } from './types';

export const plugin = new DataSourcePlugin<DataSource, FurrowQuery, FurrowOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
