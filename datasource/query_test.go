package datasource

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTableFilters(t *testing.T) {
	for _, tc := range []struct {
		in   []AdHocFilter
		want string // "" for an error
	}{
		{[]AdHocFilter{{"src_namespace", "=", "checkout"}},
			`{'flow_logs': 'src_namespace = \'checkout\'', 'flow_traffic_hourly': 'src_namespace = \'checkout\'', 'flow_traffic_daily': 'src_namespace = \'checkout\''}`},
		{[]AdHocFilter{{"srcaddr", "=~", "^10\\."}, {"traffic_class", "!=", "same-zone"}},
			`{'flow_logs': 'match(toString(srcaddr), \'^10\\\\.\') AND traffic_class != \'same-zone\'', 'flow_traffic_hourly': 'traffic_class != \'same-zone\'', 'flow_traffic_daily': 'traffic_class != \'same-zone\''}`},
		{[]AdHocFilter{{"x') OR (1", "=", "a"}}, ""},
		{[]AdHocFilter{{"src_zone", "LIKE", "a"}}, ""},
		{[]AdHocFilter{{"src_zone", "=", "a' OR '1"}},
			`{'flow_logs': 'src_zone = \'a\\\' OR \\\'1\'', 'flow_traffic_hourly': 'src_zone = \'a\\\' OR \\\'1\'', 'flow_traffic_daily': 'src_zone = \'a\\\' OR \\\'1\''}`},
	} {
		got, err := tableFilters(tc.in)
		if tc.want == "" {
			require.Error(t, err, "%v", tc.in)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}
