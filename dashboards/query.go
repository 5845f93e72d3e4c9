package dashboards

import (
	"encoding/json"
	"reflect"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"

	"github.com/furrowdev/furrow/datasource"
)

// Query is a panel target of furrow's datasource: the plugin's query
// model (datasource.Query) with Grafana's refId and datasource.
type Query struct {
	RefID      string                `json:"refId"`
	Datasource *common.DataSourceRef `json:"datasource,omitempty"`
	datasource.Query
}

var _ variants.Dataquery = Query{}

// ImplementsDataqueryVariant marks Query as a panel target.
func (Query) ImplementsDataqueryVariant() {}

// DataqueryType is the plugin's id.
func (Query) DataqueryType() string { return datasource.PluginID }

// Equals compares two targets.
func (q Query) Equals(other variants.Dataquery) bool { return reflect.DeepEqual(q, other) }

// Validate has nothing to check: the plugin checks queries when they run.
func (Query) Validate() error { return nil }

// MarshalJSON writes the model flat, as Grafana stores a target.
func (q Query) MarshalJSON() ([]byte, error) {
	inner, err := json.Marshal(q.Query)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(inner, &m); err != nil {
		return nil, err
	}
	m["refId"] = q.RefID
	if q.Datasource != nil {
		m["datasource"] = q.Datasource
	}
	return json.Marshal(m)
}

// target builds a Query as a panel target.
type target struct{ q Query }

func (t target) Build() (variants.Dataquery, error) { return t.q, nil }

var _ cog.Builder[variants.Dataquery] = target{}

// dsRef is the furrow datasource, chosen by the dashboard's datasource
// variable.
func dsRef() common.DataSourceRef {
	typ, uid := datasource.PluginID, "${datasource}"
	return common.DataSourceRef{Type: &typ, Uid: &uid}
}

func furrowTarget(refID string, q datasource.Query) target {
	ref := dsRef()
	return target{Query{RefID: refID, Datasource: &ref, Query: q}}
}
