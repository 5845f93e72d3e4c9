package flowlogs

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestTrafficConfigurationYAML(t *testing.T) {
	in := `
region: eu-west-1
vpc_cidrs: [10.0.0.0/16]
zones:
  - {cidr: 10.0.0.0/19, zone: eu-west-1a, zone_id: euw1-az1}
  - {cidr: 10.0.32.0/19, zone: eu-west-1b, zone_id: euw1-az2, region: eu-west-1}
nat_gateways:
  - {eni: eni-0abc, ip: 10.0.200.10, zone: eu-west-1a}
aws_ip_ranges: [{cidr: 52.218.0.0/17, service: S3, region: eu-west-1}]
prices: {cross_zone_per_gb: 0.02}
`
	cfg := DefaultTrafficConfiguration()
	dec := yaml.NewDecoder(strings.NewReader(in))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg))
	require.NoError(t, cfg.Validate())
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}, cfg.VPCCIDRs)
	require.Equal(t, netip.MustParseAddr("10.0.200.10"), cfg.NATGateways[0].IP)
	require.Equal(t, 0.02, cfg.Prices.CrossZonePerGB)
	require.Equal(t, 0.045, cfg.Prices.NATGatewayPerGB, "unset prices keep their default")

	bad := DefaultTrafficConfiguration()
	require.Error(t, yaml.Unmarshal([]byte("vpc_cidrs: [10.0.0.0/33]"), &bad))
	bad = TrafficConfiguration{Zones: []ZoneConfiguration{{}}, NATGateways: []NATGatewayConfiguration{{}}, Prices: Prices{SameZonePerGB: -1}}
	require.ErrorContains(t, bad.Validate(), "zones[0].cidr")
	require.ErrorContains(t, bad.Validate(), "nat_gateways[0]")
	require.ErrorContains(t, bad.Validate(), "prices.same_zone_per_gb")
}

func TestAWSIPRangesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ip-ranges.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"syncToken":"1","createDate":"2026-11-01-00-00-00",
"prefixes":[{"ip_prefix":"3.120.0.0/14","region":"eu-central-1","service":"AMAZON","network_border_group":"eu-central-1"},
{"ip_prefix":"3.120.0.0/14","region":"eu-central-1","service":"EC2","network_border_group":"eu-central-1"},
{"ip_prefix":"52.218.0.0/17","region":"eu-west-1","service":"S3","network_border_group":"eu-west-1"}],
"ipv6_prefixes":[{"ipv6_prefix":"2a05:d07a:a000::/40","region":"eu-west-1","service":"S3","network_border_group":"eu-west-1"}]}`), 0o644))
	ranges, err := ReadAWSIPRanges(path)
	require.NoError(t, err)
	require.Len(t, ranges, 4)
	a, err := NewAttributor(TrafficConfiguration{Region: "eu-west-1", AWSIPRangesFile: path})
	require.NoError(t, err)
	for _, c := range []struct{ ip, service, region string }{
		{"3.121.1.1", "EC2", "eu-central-1"}, // the specific service beats AMAZON
		{"52.218.3.4", "S3", "eu-west-1"},
		{"2a05:d07a:a000::1", "S3", "eu-west-1"},
		{"8.8.8.8", "", ""},
	} {
		n := a.netInfo(netip.MustParseAddr(c.ip))
		require.Equal(t, c.service, n.service, c.ip)
		require.Equal(t, c.region, n.svcRegn, c.ip)
	}
}
