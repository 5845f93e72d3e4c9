package flowlogs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// TrafficConfiguration describes the network that flow logs are attributed
// against and the prices that cost its traffic: the `traffic:` section of
// furrow.yaml (`furrow demo generate` writes one for its cluster). See
// docs/traffic.md for how records are classified and costed.
type TrafficConfiguration struct {
	// Region is the home AWS region of the VPC; traffic to an address of
	// another region is cross-region.
	Region string `yaml:"region" json:"region"`
	// VPCCIDRs are the VPC's address ranges. An address inside them that
	// is neither a pod, a node nor a NAT gateway is an unknown VPC
	// resource ("vpc"); outside, it is an AWS service or the internet.
	// Empty means the zones' CIDRs, or the private ranges (RFC 1918,
	// 100.64.0.0/10, fc00::/7) when there are no zones either.
	VPCCIDRs []netip.Prefix `yaml:"vpc_cidrs" json:"vpc_cidrs"`
	// Zones map subnets to availability zones, for the addresses the pod
	// index does not know; the most specific CIDR wins. Their zone_id
	// also maps a record's az-id to its zone name.
	Zones []ZoneConfiguration `yaml:"zones" json:"zones"`
	// NATGateways lists the NAT gateways, whose records are costed as NAT
	// data processing instead of as traffic between their two sides.
	NATGateways []NATGatewayConfiguration `yaml:"nat_gateways" json:"nat_gateways"`
	// AWSIPRanges are AWS address ranges with their service and region,
	// added to those of AWSIPRangesFile.
	AWSIPRanges []AWSIPRange `yaml:"aws_ip_ranges" json:"aws_ip_ranges"`
	// AWSIPRangesFile is a copy of AWS's published ip-ranges.json
	// (https://ip-ranges.amazonaws.com/ip-ranges.json); empty for none.
	AWSIPRangesFile string `yaml:"aws_ip_ranges_file" json:"aws_ip_ranges_file"`
	// Prices are the USD prices per GB (10^9 bytes) of each class.
	Prices Prices `yaml:"prices" json:"prices"`
}

// ZoneConfiguration maps a CIDR to an availability zone.
type ZoneConfiguration struct {
	// CIDR is a subnet (or any range) of the zone.
	CIDR netip.Prefix `yaml:"cidr" json:"cidr"`
	// Zone is the zone name, e.g. eu-west-1a, as Kubernetes labels nodes.
	Zone string `yaml:"zone" json:"zone"`
	// ZoneID is the account-independent zone id, e.g. euw1-az1, as flow
	// logs report it in az-id.
	ZoneID string `yaml:"zone_id" json:"zone_id"`
	// Region is the zone's region; empty means the home region.
	Region string `yaml:"region" json:"region"`
}

// NATGatewayConfiguration identifies a NAT gateway.
type NATGatewayConfiguration struct {
	// ENI is the gateway's network interface id (the interface-id of its
	// records); optional when IP is set.
	ENI string `yaml:"eni" json:"eni"`
	// IP is the gateway's private address; optional when ENI is set.
	IP netip.Addr `yaml:"ip" json:"ip"`
	// Zone is the gateway's zone name; empty means the zone of IP.
	Zone string `yaml:"zone" json:"zone"`
}

// AWSIPRange is an AWS address range.
type AWSIPRange struct {
	// CIDR is the range.
	CIDR netip.Prefix `yaml:"cidr" json:"cidr"`
	// Service is the AWS service name as ip-ranges.json spells it (S3,
	// EC2, DYNAMODB, AMAZON for the rest).
	Service string `yaml:"service" json:"service"`
	// Region is the range's region ("GLOBAL" counts as the home region).
	Region string `yaml:"region" json:"region"`
}

// Prices are USD per GB (10^9 bytes) transferred.
type Prices struct {
	// CrossZonePerGB is charged in each direction: a transfer between two
	// zones costs twice this (once leaving the sender's zone, once
	// entering the receiver's).
	CrossZonePerGB float64 `yaml:"cross_zone_per_gb" json:"cross_zone_per_gb"`
	// CrossRegionPerGB is charged to the sending region.
	CrossRegionPerGB float64 `yaml:"cross_region_per_gb" json:"cross_region_per_gb"`
	// NATGatewayPerGB is the NAT gateway data processing charge, on the
	// bytes it processes in both directions.
	NATGatewayPerGB float64 `yaml:"nat_gateway_per_gb" json:"nat_gateway_per_gb"`
	// InternetEgressPerGB is data transfer out to the internet.
	InternetEgressPerGB float64 `yaml:"internet_egress_per_gb" json:"internet_egress_per_gb"`
	// InternetIngressPerGB is data transfer in from the internet.
	InternetIngressPerGB float64 `yaml:"internet_ingress_per_gb" json:"internet_ingress_per_gb"`
	// AWSServicePerGB is traffic to AWS services of the home region
	// (through a gateway endpoint it is free).
	AWSServicePerGB float64 `yaml:"aws_service_per_gb" json:"aws_service_per_gb"`
	// SameZonePerGB is traffic inside one zone.
	SameZonePerGB float64 `yaml:"same_zone_per_gb" json:"same_zone_per_gb"`
}

// DefaultTrafficConfiguration has AWS's public list prices (us-east-1,
// first internet tier) and no network layout.
func DefaultTrafficConfiguration() TrafficConfiguration {
	return TrafficConfiguration{Prices: Prices{
		CrossZonePerGB:      0.01,
		CrossRegionPerGB:    0.02,
		NATGatewayPerGB:     0.045,
		InternetEgressPerGB: 0.09,
	}}
}

// Validate reports every problem at once, each naming its YAML key.
func (c TrafficConfiguration) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for i, p := range c.VPCCIDRs {
		if !p.IsValid() {
			bad("vpc_cidrs[%d]: not a CIDR", i)
		}
	}
	for i, z := range c.Zones {
		if !z.CIDR.IsValid() {
			bad("zones[%d].cidr: missing or not a CIDR", i)
		}
		if z.Zone == "" {
			bad("zones[%d].zone: missing", i)
		}
	}
	for i, n := range c.NATGateways {
		if n.ENI == "" && !n.IP.IsValid() {
			bad("nat_gateways[%d]: set eni, ip or both", i)
		}
	}
	for i, r := range c.AWSIPRanges {
		if !r.CIDR.IsValid() {
			bad("aws_ip_ranges[%d].cidr: missing or not a CIDR", i)
		}
	}
	if c.AWSIPRangesFile != "" {
		if _, err := os.Stat(c.AWSIPRangesFile); err != nil {
			bad("aws_ip_ranges_file: %v", err)
		}
	}
	p := c.Prices
	for name, v := range map[string]float64{
		"cross_zone_per_gb": p.CrossZonePerGB, "cross_region_per_gb": p.CrossRegionPerGB,
		"nat_gateway_per_gb": p.NATGatewayPerGB, "internet_egress_per_gb": p.InternetEgressPerGB,
		"internet_ingress_per_gb": p.InternetIngressPerGB, "aws_service_per_gb": p.AWSServicePerGB,
		"same_zone_per_gb": p.SameZonePerGB,
	} {
		if v < 0 {
			bad("prices.%s: must not be negative, got %g", name, v)
		}
	}
	return errors.Join(errs...)
}

// ipRangesFile is the shape of AWS's ip-ranges.json.
type ipRangesFile struct {
	Prefixes []struct {
		IPPrefix string `json:"ip_prefix"`
		Region   string `json:"region"`
		Service  string `json:"service"`
	} `json:"prefixes"`
	IPv6Prefixes []struct {
		IPv6Prefix string `json:"ipv6_prefix"`
		Region     string `json:"region"`
		Service    string `json:"service"`
	} `json:"ipv6_prefixes"`
}

// ReadAWSIPRanges reads AWS's ip-ranges.json format.
func ReadAWSIPRanges(path string) ([]AWSIPRange, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read AWS IP ranges: %w", err)
	}
	var f ipRangesFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("read AWS IP ranges %s: %w", path, err)
	}
	out := make([]AWSIPRange, 0, len(f.Prefixes)+len(f.IPv6Prefixes))
	add := func(cidr, service, region string) error {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return fmt.Errorf("read AWS IP ranges %s: %w", path, err)
		}
		out = append(out, AWSIPRange{CIDR: p.Masked(), Service: strings.ToUpper(service), Region: region})
		return nil
	}
	for _, p := range f.Prefixes {
		if err := add(p.IPPrefix, p.Service, p.Region); err != nil {
			return nil, err
		}
	}
	for _, p := range f.IPv6Prefixes {
		if err := add(p.IPv6Prefix, p.Service, p.Region); err != nil {
			return nil, err
		}
	}
	return out, nil
}
