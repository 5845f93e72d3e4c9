import React, { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { InlineField, InlineSwitch, Input, SecretInput, SecretTextArea } from '@grafana/ui';

import { FurrowOptions, FurrowSecureOptions } from './types';

type Props = DataSourcePluginOptionsEditorProps<FurrowOptions, FurrowSecureOptions>;

// ConfigEditor: the furrow server's URL, a token with the read scope, TLS
// and the row cap. The token is stored encrypted by Grafana and only sent
// to the backend.
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const json = options.jsonData;
  const secure = options.secureJsonFields ?? {};
  const setJSON = (patch: Partial<FurrowOptions>) => onOptionsChange({ ...options, jsonData: { ...json, ...patch } });
  const setSecure = (key: keyof FurrowSecureOptions, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...options.secureJsonData, [key]: value } });
  const resetSecure = (key: keyof FurrowSecureOptions) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...options.secureJsonFields, [key]: false },
      secureJsonData: { ...options.secureJsonData, [key]: '' },
    });
  return (
    <>
      <InlineField label="URL" labelWidth={20} tooltip="The furrow server, e.g. http://furrow.internal:8080 (furrow serve)">
        <Input
          width={50}
          value={json.url ?? ''}
          placeholder="http://127.0.0.1:8080"
          onChange={(e: ChangeEvent<HTMLInputElement>) => setJSON({ url: e.currentTarget.value })}
        />
      </InlineField>
      <InlineField label="Token" labelWidth={20} tooltip="A furrow token with the read scope (a line of furrow's http.tokens_file)">
        <SecretInput
          width={50}
          isConfigured={Boolean(secure.token)}
          value={options.secureJsonData?.token ?? ''}
          onReset={() => resetSecure('token')}
          onChange={(e: ChangeEvent<HTMLInputElement>) => setSecure('token', e.currentTarget.value)}
        />
      </InlineField>
      <InlineField label="Skip TLS verify" labelWidth={20}>
        <InlineSwitch value={json.tlsSkipVerify ?? false} onChange={(e) => setJSON({ tlsSkipVerify: e.currentTarget.checked })} />
      </InlineField>
      <InlineField label="TLS CA certificate" labelWidth={20} tooltip="PEM, to verify an https furrow">
        <SecretTextArea
          cols={50}
          rows={4}
          isConfigured={Boolean(secure.tlsCACert)}
          onReset={() => resetSecure('tlsCACert')}
          onChange={(e: ChangeEvent<HTMLTextAreaElement>) => setSecure('tlsCACert', e.currentTarget.value)}
        />
      </InlineField>
      <InlineField label="Row limit" labelWidth={20} tooltip="Panels show at most this many rows (default 10000), with a notice">
        <Input
          width={20}
          type="number"
          value={json.rowLimit ?? 10000}
          onChange={(e: ChangeEvent<HTMLInputElement>) => setJSON({ rowLimit: Number(e.currentTarget.value) || undefined })}
        />
      </InlineField>
    </>
  );
}
