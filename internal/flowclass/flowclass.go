// Package flowclass names the traffic classes of flow_logs.traffic_class,
// once: the flow-log ingest writes them and the traffic reports filter on
// them, and a class spelled two ways would silently match nothing.
package flowclass

// The classes, as stored.
const (
	SameZone        = "same-zone"
	CrossZone       = "cross-zone"
	CrossRegion     = "cross-region"
	InternetEgress  = "internet-egress"
	InternetIngress = "internet-ingress"
	NATGateway      = "nat-gateway"
	AWSService      = "aws-service"
	Unknown         = "unknown"
)

// All lists every class, in the order reports show them.
var All = []string{SameZone, CrossZone, CrossRegion, InternetEgress, InternetIngress, NATGateway, AWSService, Unknown}
