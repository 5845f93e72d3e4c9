import React from 'react';
import { QueryEditorProps } from '@grafana/data';
import { InlineField, Select } from '@grafana/ui';

import type { DataSource } from './datasource';
import { FurrowOptions, FurrowQuery, QueryTypes, valueLists } from './types';

type Props = QueryEditorProps<DataSource, FurrowQuery, FurrowOptions>;

// VariableQueryEditor picks what a template variable lists.
export function VariableQueryEditor({ query, onChange }: Props) {
  return (
    <InlineField label="Values of" labelWidth={14}>
      <Select
        width={30}
        options={valueLists.map((l) => ({ label: l, value: l }))}
        value={query.values ?? 'namespaces'}
        onChange={(v) => onChange({ ...query, queryType: QueryTypes.Values, values: v.value })}
      />
    </InlineField>
  );
}
