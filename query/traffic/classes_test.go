package traffic

import (
	"testing"

	"github.com/furrowdev/furrow/ingest/flowlogs"
)

// TestClassesMatchIngest keeps the class names the reports filter on equal
// to what the ingest writes to flow_logs.traffic_class. The reports do not
// import the ingest (data flows one way: ingest → store ← query); this test
// may.
func TestClassesMatchIngest(t *testing.T) {
	pairs := [][2]string{
		{ClassSameZone, flowlogs.ClassSameZone},
		{ClassCrossZone, flowlogs.ClassCrossZone},
		{ClassCrossRegion, flowlogs.ClassCrossRegion},
		{ClassInternetEgress, flowlogs.ClassInternetEgress},
		{ClassInternetIngress, flowlogs.ClassInternetIngress},
		{ClassNATGateway, flowlogs.ClassNATGateway},
		{ClassAWSService, flowlogs.ClassAWSService},
		{ClassUnknown, flowlogs.ClassUnknown},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("report class %q != ingest class %q", p[0], p[1])
		}
	}
}
