package demo

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// The demo's bills: the cluster's payer account as a CUR 2.0 (Data
// Exports) CSV.gz, a data-platform account as a FOCUS 1.0 CSV. Each covers
// the data set's month from its first day to the data set's end, and the
// whole previous month (the baseline the anomaly detection needs), and
// holds what a real bill of such a platform holds: EC2 nodes by the hour
// (a third under a Savings Plan), their root volumes, tagged and untagged
// volumes, buckets and databases, NAT gateway hours and bytes, cross-zone
// and internet transfer from the traffic the generator sent, a tax row
// and a credit. On the data set's last day the search project's volumes
// jump: a cost spike for one team.
const (
	// BillAccount is the cluster's payer account (CUR 2.0).
	BillAccount = Account
	// FOCUSAccount is the data platform's billing account (FOCUS).
	FOCUSAccount = "210987654321"
	// SpikeProject is the project whose cost jumps on the last day.
	SpikeProject = "search"
)

// On-demand prices in eu-west-1, USD per hour.
var instancePrice = map[string]float64{
	"m6i.2xlarge": 0.428, "m6i.4xlarge": 0.856, "c6i.2xlarge": 0.384, "r6i.2xlarge": 0.564,
}

// BillTotal is a bill's billed cost of one account, day and currency, as
// exact decimal text: the hand check of the allocation.
type BillTotal struct {
	Account  string `json:"billing_account_id"`
	Day      string `json:"day"`
	Currency string `json:"currency"`
	Billed   string `json:"billed"`
}

// lineItem is one line of a demo bill, before formatting.
type lineItem struct {
	account, usageAccount     string
	start, end                time.Time
	typ                       string // CUR line item type
	product, service          string
	usageType, operation      string
	resource, zone            string
	amount                    float64 // usage amount
	cost, effective           *big.Rat
	tags                      map[string]string
	savingsPlan, description  string
	currency, region          string
	periodStart, periodFinish time.Time
}

func usd(v float64) *big.Rat {
	r := new(big.Rat)
	r.SetString(fmt.Sprintf("%.10f", v))
	return r
}

// billItems builds the line items of both accounts.
func (d *dataset) billItems(truth []TruthRow) []lineItem {
	o := d.o
	month := time.Date(o.Start.Year(), o.Start.Month(), 1, 0, 0, 0, 0, time.UTC)
	prev := month.AddDate(0, -1, 0)
	end := o.end()
	r := newRNG(o.Seed, 77)
	var items []lineItem
	item := func(li lineItem) {
		if li.account == "" {
			li.account = BillAccount
		}
		if li.usageAccount == "" {
			li.usageAccount = li.account
		}
		if li.currency == "" {
			li.currency = "USD"
		}
		if li.region == "" {
			li.region = Region
		}
		if li.typ == "" {
			li.typ = "Usage"
		}
		if li.effective == nil {
			li.effective = li.cost
		}
		li.periodStart = time.Date(li.start.Year(), li.start.Month(), 1, 0, 0, 0, 0, time.UTC)
		li.periodFinish = li.periodStart.AddDate(0, 1, 0)
		items = append(items, li)
	}
	// Days of the bill: the whole previous month, then the data set's
	// month up to its end.
	var days []time.Time
	for t := prev; t.Before(end); t = t.AddDate(0, 0, 1) {
		days = append(days, t)
	}
	last := days[len(days)-1]

	// Nodes, by the hour, during the data set (their history before it
	// is not part of the demo's pods, so it is not billed either).
	for i, n := range d.topo.Nodes {
		price := instancePrice[n.InstanceType]
		for h := o.Start; h.Before(end); h = h.Add(time.Hour) {
			li := lineItem{start: h, end: h.Add(time.Hour), product: "AmazonEC2", service: "Amazon Elastic Compute Cloud",
				usageType: "EU-BoxUsage:" + n.InstanceType, operation: "RunInstances", resource: n.InstanceID,
				zone: d.topo.Zones[n.Zone].Name, amount: 1, cost: usd(price),
				description: fmt.Sprintf("$%.3f per On Demand Linux %s Instance Hour", price, n.InstanceType)}
			if i%3 == 0 {
				li.typ = "SavingsPlanCoveredUsage"
				li.effective = usd(price * 0.72)
				li.savingsPlan = "arn:aws:savingsplans::" + BillAccount + ":savingsplan/demo-compute-sp"
			}
			item(li)
		}
	}
	// Daily items: root volumes, project resources, NAT gateway hours.
	for _, day := range days {
		next := day.AddDate(0, 0, 1)
		// The nodes' root volumes (the nodes were created 40 days
		// before the data set).
		for _, n := range d.topo.Nodes {
			gb := 100.0
			item(lineItem{start: day, end: next, product: "AmazonEC2", service: "Amazon Elastic Compute Cloud",
				usageType: "EU-EBS:VolumeUsage.gp3", operation: "CreateVolume-Gp3", resource: "vol-0" + n.InstanceID[3:],
				zone: d.topo.Zones[n.Zone].Name, amount: gb / 30, cost: usd(gb * 0.088 / 30)})
		}
		for _, nat := range d.topo.NATs {
			item(lineItem{start: day, end: next, product: "AmazonEC2", service: "Amazon Elastic Compute Cloud",
				usageType: "EU-NatGateway-Hours", operation: "NatGateway", resource: nat.ID,
				zone: d.topo.Zones[nat.Zone].Name, amount: 24, cost: usd(24 * 0.048)})
		}
		// Each project's tagged volumes and bucket, a little noise a day.
		for ti, t := range demoTeams {
			for pi, p := range t.projects {
				base := float64(4 + 3*((ti+pi)%4))
				vol := base * (1 + 0.04*(r.Float64()-0.5))
				if p.id == SpikeProject && day.Equal(last) {
					vol += 380 // io2 volumes with provisioned IOPS, left behind by a load test
				}
				item(lineItem{start: day, end: next, product: "AmazonEC2", service: "Amazon Elastic Compute Cloud",
					usageType: "EU-EBS:VolumeUsage.io2", operation: "CreateVolume-P-IOPS.io2", resource: "vol-0" + p.id + "-data",
					amount: vol / 0.145, cost: usd(vol), tags: map[string]string{"user_project": p.id}})
				s3 := base / 2 * (1 + 0.04*(r.Float64()-0.5))
				item(lineItem{account: FOCUSAccount, start: day, end: next, product: "AmazonS3", service: "Amazon Simple Storage Service",
					usageType: "EU-TimedStorage-ByteHrs", operation: "StandardStorage", resource: "furrow-demo-" + p.id,
					amount: s3 / 0.023 * 30, cost: usd(s3), tags: map[string]string{"user:project": p.id}})
			}
		}
		// An untagged bucket and a database nobody claims: unowned.
		item(lineItem{account: FOCUSAccount, start: day, end: next, product: "AmazonS3", service: "Amazon Simple Storage Service",
			usageType: "EU-TimedStorage-ByteHrs", operation: "StandardStorage", resource: "legacy-exports",
			amount: 9000, cost: usd(6.9 * (1 + 0.02*(r.Float64()-0.5)))})
		item(lineItem{account: FOCUSAccount, start: day, end: next, product: "AmazonRDS", service: "Amazon Relational Database Service",
			usageType: "EU-InstanceUsage:db.r6g.large", operation: "CreateDBInstance:0014", resource: "arn:aws:rds:eu-west-1:" + FOCUSAccount + ":db:reporting",
			amount: 24, cost: usd(24 * 0.263)})
	}
	// Transfer, per day, from what the generator sent: the bill counts a
	// little more than the flow logs show (the nodes' own traffic, DNS).
	type dayKey struct {
		day   int
		class string
	}
	bytesBy := map[dayKey]int64{}
	for _, t := range truth {
		out := t.DstNamespace == PeerInternet || t.DstNamespace == PeerRemote
		switch t.Class {
		case ClassCrossZone:
			bytesBy[dayKey{t.Day, "cross-zone"}] += t.Bytes
		case ClassInternet:
			bytesBy[dayKey{t.Day, "nat"}] += t.Bytes
			if out {
				bytesBy[dayKey{t.Day, "internet"}] += t.Bytes
			}
		case ClassCrossRegion:
			bytesBy[dayKey{t.Day, "nat"}] += t.Bytes
			if out {
				bytesBy[dayKey{t.Day, "cross-region"}] += t.Bytes
			}
		}
	}
	gb := func(b int64) float64 { return float64(b) / (1 << 30) }
	for day := range o.Days {
		start := o.Start.AddDate(0, 0, day)
		next := start.AddDate(0, 0, 1)
		// Cross-zone: $0.01/GB out of the sender's zone and $0.01/GB into
		// the receiver's.
		cz := gb(bytesBy[dayKey{day, "cross-zone"}]) * 1.06
		item(lineItem{start: start, end: next, product: "AWSDataTransfer", service: "AWS Data Transfer",
			usageType: "EU-DataTransfer-Regional-Bytes", operation: "InterZone-In", amount: cz, cost: usd(cz * 0.01)})
		item(lineItem{start: start, end: next, product: "AWSDataTransfer", service: "AWS Data Transfer",
			usageType: "EU-DataTransfer-Regional-Bytes", operation: "InterZone-Out", amount: cz, cost: usd(cz * 0.01)})
		nat := gb(bytesBy[dayKey{day, "nat"}]) * 1.04
		item(lineItem{start: start, end: next, product: "AmazonEC2", service: "Amazon Elastic Compute Cloud",
			usageType: "EU-NatGateway-Bytes", operation: "NatGateway", resource: d.topo.NATs[0].ID, amount: nat, cost: usd(nat * 0.048)})
		out := gb(bytesBy[dayKey{day, "internet"}]) * 1.02
		item(lineItem{start: start, end: next, product: "AWSDataTransfer", service: "AWS Data Transfer",
			usageType: "EU-DataTransfer-Out-Bytes", operation: "", amount: out, cost: usd(out * 0.09)})
		cr := gb(bytesBy[dayKey{day, "cross-region"}]) * 1.02
		item(lineItem{start: start, end: next, product: "AWSDataTransfer", service: "AWS Data Transfer",
			usageType: "EU-EUC1-AWS-Out-Bytes", operation: "", amount: cr, cost: usd(cr * 0.02)})
	}
	// The month's tax and a promotional credit, on its first day.
	for _, m := range []time.Time{prev, month} {
		for _, acct := range []string{BillAccount, FOCUSAccount} {
			item(lineItem{account: acct, start: m, end: m.AddDate(0, 1, 0), typ: "Tax", product: "AmazonEC2", service: "Amazon Elastic Compute Cloud",
				usageType: "", operation: "", region: "", cost: usd(41.5), description: "Tax for product code AmazonEC2"})
		}
	}
	item(lineItem{start: month, end: month.AddDate(0, 1, 0), typ: "Credit", product: "AmazonEC2", service: "Amazon Elastic Compute Cloud",
		region: "", cost: usd(-50), description: "AWS Activate credit"})
	return items
}

// billTotals sums the items per account, day (of the charge period's
// start) and currency, exactly.
func billTotals(items []lineItem) []BillTotal {
	sums := map[[3]string]*big.Rat{}
	for _, li := range items {
		k := [3]string{li.account, li.start.Format("2006-01-02"), li.currency}
		if sums[k] == nil {
			sums[k] = new(big.Rat)
		}
		sums[k].Add(sums[k], li.cost)
	}
	out := make([]BillTotal, 0, len(sums))
	for k, v := range sums {
		out = append(out, BillTotal{Account: k[0], Day: k[1], Currency: k[2], Billed: strings.TrimRight(strings.TrimRight(v.FloatString(10), "0"), ".")})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Account+out[i].Day+out[i].Currency < out[j].Account+out[j].Day+out[j].Currency
	})
	return out
}

// writeBills writes dir/billing/cur2/… (CUR 2.0 CSV.gz, one file per
// billing period) and dir/billing/focus/… (FOCUS 1.0 CSV), and returns
// the totals.
func (d *dataset) writeBills(dir string, truth []TruthRow) ([]BillTotal, error) {
	items := d.billItems(truth)
	periods := map[string][]lineItem{}
	for _, li := range items {
		k := li.account + "/" + li.periodStart.Format("2006-01")
		periods[k] = append(periods[k], li)
	}
	keys := make([]string, 0, len(periods))
	for k := range periods {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		acct, month, _ := strings.Cut(k, "/")
		var err error
		if acct == FOCUSAccount {
			err = writeFOCUS(filepath.Join(dir, "billing", "focus", "focus-"+acct+"-"+month+".csv"), periods[k])
		} else {
			err = writeCUR2(filepath.Join(dir, "billing", "cur2", "demo-cur2-"+month+".csv.gz"), periods[k])
		}
		if err != nil {
			return nil, err
		}
	}
	return billTotals(items), nil
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func dec(r *big.Rat) string { return strings.TrimRight(strings.TrimRight(r.FloatString(10), "0"), ".") }

func tagsJSON(tags map[string]string) string {
	if len(tags) == 0 {
		return ""
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

var cur2Columns = []string{
	"identity_line_item_id", "identity_time_interval", "bill_bill_type", "bill_billing_entity", "bill_billing_period_end_date",
	"bill_billing_period_start_date", "bill_invoice_id", "bill_payer_account_id", "line_item_availability_zone",
	"line_item_blended_cost", "line_item_currency_code", "line_item_line_item_description", "line_item_line_item_type",
	"line_item_operation", "line_item_product_code", "line_item_resource_id", "line_item_unblended_cost",
	"line_item_usage_account_id", "line_item_usage_amount", "line_item_usage_end_date", "line_item_usage_start_date",
	"line_item_usage_type", "pricing_public_on_demand_cost", "product_region_code", "product_servicecode", "resource_tags",
	"savings_plan_savings_plan_a_r_n", "savings_plan_savings_plan_effective_cost",
}

func writeCUR2(path string, items []lineItem) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	w := csv.NewWriter(zw)
	_ = w.Write(cur2Columns)
	for i, li := range items {
		sp := ""
		if li.savingsPlan != "" {
			sp = dec(li.effective)
		}
		_ = w.Write([]string{
			fmt.Sprintf("demo-%s-%06d", li.periodStart.Format("200601"), i), ts(li.start) + "/" + ts(li.end), "Anniversary", "AWS",
			ts(li.periodFinish), ts(li.periodStart), "", li.account, li.zone,
			dec(li.cost), li.currency, li.description, li.typ,
			li.operation, li.product, li.resource, dec(li.cost),
			li.usageAccount, fmt.Sprintf("%.6f", li.amount), ts(li.end), ts(li.start),
			li.usageType, dec(li.cost), li.region, li.product, tagsJSON(li.tags),
			li.savingsPlan, sp,
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

var focusColumns = []string{
	"BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
	"ChargeCategory", "ChargeDescription", "ChargePeriodEnd", "ChargePeriodStart", "EffectiveCost", "ListCost",
	"ProviderName", "PublisherName", "InvoiceIssuerName", "RegionId", "RegionName", "ResourceId", "ServiceCategory",
	"ServiceName", "SubAccountId", "SubAccountName", "Tags", "x_UsageType", "x_Operation",
}

func writeFOCUS(path string, items []lineItem) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(focusColumns)
	category := map[string]string{"Usage": "Usage", "SavingsPlanCoveredUsage": "Usage", "Tax": "Tax", "Credit": "Credit"}
	svcCategory := map[string]string{"AmazonS3": "Storage", "AmazonRDS": "Databases", "AmazonEC2": "Compute", "AWSDataTransfer": "Networking"}
	for _, li := range items {
		region, regionName := li.region, "Europe (Ireland)"
		if region == "" {
			regionName = ""
		}
		tags := tagsJSON(li.tags)
		_ = w.Write([]string{
			dec(li.cost), li.account, "data-platform", li.currency, ts(li.periodFinish), ts(li.periodStart),
			category[li.typ], li.description, ts(li.end), ts(li.start), dec(li.effective), dec(li.cost),
			"AWS", "AWS", "AWS", region, regionName, li.resource, svcCategory[li.product],
			li.service, li.usageAccount, "data-platform", tags, li.usageType, li.operation,
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
