package flowlogs

import (
	"strings"
)

// kind is how a field's text is parsed and which proto column holds it.
type kind uint8

const (
	kindLC   kind = iota // LowCardinality(String)
	kindU8               // UInt8
	kindU16              // UInt16
	kindU64              // UInt64
	kindTime             // DateTime, unix seconds
	kindIP               // IPv6, IPv4 stored IPv4-mapped
)

var kindType = [...]string{
	kindLC:   "LowCardinality(String)",
	kindU8:   "UInt8",
	kindU16:  "UInt16",
	kindU64:  "UInt64",
	kindTime: "DateTime",
	kindIP:   "IPv6",
}

// Field describes one AWS flow log field and the flow_logs column that
// stores it.
type Field struct {
	// Name is the AWS field name as written in a log format, e.g. "account-id".
	Name string
	// Column is the ClickHouse column name: Name in snake_case.
	Column string
	// Type is the ClickHouse column type.
	Type string
	// Version is the flow log version that introduced the field (6 for the
	// Transit Gateway fields).
	Version int

	kind kind
}

// Indices into catalogue of the fields the Batch accessors read. The
// catalogue test checks that they match the names.
const (
	idxVersion = iota
	idxAccountID
	idxInterfaceID
	idxSrcAddr
	idxDstAddr
	idxSrcPort
	idxDstPort
	idxProtocol
	idxPackets
	idxBytes
	idxStart
	idxEnd
	idxAction
	idxLogStatus
	idxVPCID
	idxSubnetID
	idxInstanceID
	idxTCPFlags
	idxType
	idxPktSrcAddr
	idxPktDstAddr
	idxRegion
	idxAZID
	idxSublocationType
	idxSublocationID
	idxPktSrcAWSService
	idxPktDstAWSService
	idxFlowDirection
	idxTrafficPath
)

// catalogue lists every documented field in flow_logs column order: the VPC
// flow log fields by version, with the Transit Gateway fields (version 6)
// between versions 5 and 7, as AWS numbers them.
var catalogue = func() []Field {
	defs := []struct {
		name    string
		kind    kind
		version int
	}{
		// Version 2: the default format.
		{"version", kindU8, 2},
		{"account-id", kindLC, 2},
		{"interface-id", kindLC, 2},
		{"srcaddr", kindIP, 2},
		{"dstaddr", kindIP, 2},
		{"srcport", kindU16, 2},
		{"dstport", kindU16, 2},
		{"protocol", kindU8, 2},
		{"packets", kindU64, 2},
		{"bytes", kindU64, 2},
		{"start", kindTime, 2},
		{"end", kindTime, 2},
		{"action", kindLC, 2},
		{"log-status", kindLC, 2},
		// Version 3.
		{"vpc-id", kindLC, 3},
		{"subnet-id", kindLC, 3},
		{"instance-id", kindLC, 3},
		{"tcp-flags", kindU16, 3},
		{"type", kindLC, 3},
		{"pkt-srcaddr", kindIP, 3},
		{"pkt-dstaddr", kindIP, 3},
		// Version 4.
		{"region", kindLC, 4},
		{"az-id", kindLC, 4},
		{"sublocation-type", kindLC, 4},
		{"sublocation-id", kindLC, 4},
		// Version 5.
		{"pkt-src-aws-service", kindLC, 5},
		{"pkt-dst-aws-service", kindLC, 5},
		{"flow-direction", kindLC, 5},
		{"traffic-path", kindU8, 5},
		// Version 6: Transit Gateway flow logs.
		{"resource-type", kindLC, 6},
		{"tgw-id", kindLC, 6},
		{"tgw-attachment-id", kindLC, 6},
		{"tgw-src-vpc-account-id", kindLC, 6},
		{"tgw-dst-vpc-account-id", kindLC, 6},
		{"tgw-src-vpc-id", kindLC, 6},
		{"tgw-dst-vpc-id", kindLC, 6},
		{"tgw-src-subnet-id", kindLC, 6},
		{"tgw-dst-subnet-id", kindLC, 6},
		{"tgw-src-eni", kindLC, 6},
		{"tgw-dst-eni", kindLC, 6},
		{"tgw-src-az-id", kindLC, 6},
		{"tgw-dst-az-id", kindLC, 6},
		{"tgw-pair-attachment-id", kindLC, 6},
		{"packets-lost-no-route", kindU64, 6},
		{"packets-lost-blackhole", kindU64, 6},
		{"packets-lost-mtu-exceeded", kindU64, 6},
		{"packets-lost-ttl-expired", kindU64, 6},
		// Version 7: ECS.
		{"ecs-cluster-arn", kindLC, 7},
		{"ecs-cluster-name", kindLC, 7},
		{"ecs-container-instance-arn", kindLC, 7},
		{"ecs-container-instance-id", kindLC, 7},
		{"ecs-container-id", kindLC, 7},
		{"ecs-second-container-id", kindLC, 7},
		{"ecs-service-name", kindLC, 7},
		{"ecs-task-definition-arn", kindLC, 7},
		{"ecs-task-arn", kindLC, 7},
		{"ecs-task-id", kindLC, 7},
		// Version 8.
		{"reject-reason", kindLC, 8},
		// Version 9.
		{"resource-id", kindLC, 9},
		// Version 10: VPC encryption controls (0 none, 1 Nitro, 2 TLS, 3 both).
		{"encryption-status", kindU8, 10},
		// Version 11: interface type and next hop.
		{"interface-type", kindLC, 11},
		{"next-hop-interface-id", kindLC, 11},
		{"next-hop-subnet-id", kindLC, 11},
		{"next-hop-az-id", kindLC, 11},
		{"next-hop-vpc-id", kindLC, 11},
		{"next-hop-interface-type", kindLC, 11},
	}
	out := make([]Field, len(defs))
	for i, d := range defs {
		out[i] = Field{
			Name:    d.name,
			Column:  strings.ReplaceAll(d.name, "-", "_"),
			Type:    kindType[d.kind],
			Version: d.version,
			kind:    d.kind,
		}
	}
	return out
}()

// numFields is the number of columns of flow_logs.
var numFields = len(catalogue)

// byName maps both spellings of every field name (dashes and underscores)
// to its catalogue index.
var byName = func() map[string]int {
	m := make(map[string]int, 2*len(catalogue))
	for i, f := range catalogue {
		m[f.Name] = i
		m[f.Column] = i
	}
	return m
}()

// Fields returns the catalogue of every documented field, in flow_logs
// column order. The slice is a copy.
func Fields() []Field {
	return append([]Field(nil), catalogue...)
}

// LookupField finds a field by its AWS name ("account-id"), its column name
// ("account_id") or its format placeholder ("${account-id}").
func LookupField(name string) (Field, bool) {
	i, ok := lookup(name)
	if !ok {
		return Field{}, false
	}
	return catalogue[i], true
}

func lookup(name string) (int, bool) {
	name = strings.TrimSuffix(strings.TrimPrefix(name, "${"), "}")
	i, ok := byName[name]
	return i, ok
}

// tgwDefault is the default Transit Gateway flow log format (version 6).
var tgwDefault = []string{
	"version", "resource-type", "account-id", "tgw-id", "tgw-attachment-id",
	"tgw-src-vpc-account-id", "tgw-dst-vpc-account-id", "tgw-src-vpc-id",
	"tgw-dst-vpc-id", "tgw-src-subnet-id", "tgw-dst-subnet-id", "tgw-src-eni",
	"tgw-dst-eni", "tgw-src-az-id", "tgw-dst-az-id", "tgw-pair-attachment-id",
	"srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes",
	"start", "end", "log-status", "type", "packets-lost-no-route",
	"packets-lost-blackhole", "packets-lost-mtu-exceeded",
	"packets-lost-ttl-expired", "tcp-flags", "region", "flow-direction",
	"pkt-src-aws-service", "pkt-dst-aws-service",
}

// VersionFields returns every field of flow log version v in the order of
// the AWS field table, which is the order of a custom format that selects
// all of them: for v = 2 it is the 14-field default format, for 6 the
// default Transit Gateway format. It returns nil for an unknown version.
func VersionFields(v int) []string {
	if v == 6 {
		return append([]string(nil), tgwDefault...)
	}
	if v < 2 || v > catalogue[len(catalogue)-1].Version {
		return nil
	}
	var out []string
	for _, f := range catalogue {
		if f.Version <= v && f.Version != 6 {
			out = append(out, f.Name)
		}
	}
	return out
}

// defaultLayouts maps a headerless line's field count to the catalogue
// indices of the full field list with that many fields.
var defaultLayouts = func() map[int][]int {
	m := map[int][]int{}
	for v := 2; v <= catalogue[len(catalogue)-1].Version; v++ {
		names := VersionFields(v)
		if names == nil {
			continue
		}
		if _, dup := m[len(names)]; dup {
			continue
		}
		m[len(names)] = mustLayout(names)
	}
	return m
}()

// DefaultFields returns the field list assumed for a line with n fields and
// no header or explicit format: the full list of the version with that many
// fields (14: version 2, 21: 3, 25: 4, 29: 5, 36: Transit Gateway 6, …).
// It returns nil when no version has n fields.
func DefaultFields(n int) []string {
	l, ok := defaultLayouts[n]
	if !ok {
		return nil
	}
	out := make([]string, len(l))
	for i, idx := range l {
		out[i] = catalogue[idx].Name
	}
	return out
}

func mustLayout(names []string) []int {
	l, err := layoutOf(names)
	if err != nil {
		panic(err)
	}
	return l
}
