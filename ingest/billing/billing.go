// Package billing loads cloud bills into billing_line_items: AWS CUR 1.0
// (CSV, CSV.gz; lineItem/… columns), its Athena snake_case variant, CUR
// 2.0 (snake_case, resource_tags as JSON) and FOCUS 1.x (so GCP, Azure and
// Oracle exports load too). The format is told from the header. The
// engine reads the files itself (file(), CSVWithNames, gzip by extension);
// Go only reads the header, maps the columns and keeps the ledger.
//
// A delivery (the files of one command) replaces the (billing account,
// billing period) pairs found in its rows: rows carry the delivery id, the
// ledger's "replace a period" mode names the delivery in force per pair,
// and the view billing_costs keeps those rows only. Other periods and
// accounts are kept; the same files again change nothing.
package billing

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/furrowdev/furrow/ingest/ledger"
	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// LedgerKind is the ledger kind of deliveries and their periods.
const LedgerKind = "billing"

// Format is a bill's layout.
type Format string

// The formats.
const (
	CUR1      Format = "cur-1.0"
	CURAthena Format = "cur-athena"
	CUR2      Format = "cur-2.0"
	FOCUS     Format = "focus"
	NotABill  Format = ""
)

// ErrNotABill is wrapped by the error for a file with no cost column.
var ErrNotABill = errors.New("not a bill: no lineItem/UnblendedCost, line_item_unblended_cost or BilledCost column")

// header reads a file's first CSV record (gzip by extension, BOM removed).
func header(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	rec, err := csv.NewReader(br).Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read the header: %w", path, err)
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	return rec, nil
}

// Detect tells a bill's format from its columns.
func Detect(cols []string) Format {
	has := map[string]bool{}
	for _, c := range cols {
		has[c] = true
	}
	switch {
	case has["lineItem/UnblendedCost"]:
		return CUR1
	case has["line_item_unblended_cost"] && has["resource_tags"]:
		return CUR2
	case has["line_item_unblended_cost"]:
		return CURAthena
	case has["BilledCost"] && has["BillingAccountId"]:
		return FOCUS
	}
	return NotABill
}

// mapping is the SQL of each target column for one file.
type mapping struct {
	exprs  map[string]string // target column → expression over the file's columns
	used   map[string]bool
	cols   map[string]bool
	checks []string // expressions that must not be NULL (parsable amounts and dates)
}

func newMapping(cols []string) *mapping {
	m := &mapping{exprs: map[string]string{}, used: map[string]bool{}, cols: map[string]bool{}}
	for _, c := range cols {
		m.cols[c] = true
	}
	return m
}

// col is a column of the file as a trimmed string (” when absent; the
// literal NULL of FOCUS exports is empty too).
func (m *mapping) col(name string) string {
	if !m.cols[name] {
		return "''"
	}
	m.used[name] = true
	c := chsql.QuoteIdent(name)
	return "if(upper(trim(" + c + ")) = 'NULL', '', trim(" + c + "))"
}

// first is the first present column of names.
func (m *mapping) first(names ...string) string {
	for _, n := range names {
		if m.cols[n] {
			return m.col(n)
		}
	}
	return "''"
}

// money parses an amount: empty is 0; anything else must parse.
func (m *mapping) money(expr string) string {
	v := "toDecimal128OrNull(" + expr + ", 12)"
	m.checks = append(m.checks, "("+expr+" = '' OR "+v+" IS NOT NULL)")
	return "if(" + expr + " = '', toDecimal128(0, 12), assumeNotNull(" + v + "))"
}

// date parses a timestamp; one without a zone is UTC.
func (m *mapping) date(expr string) string {
	v := "parseDateTime64BestEffortOrNull(" + expr + ", 3, 'UTC')"
	m.checks = append(m.checks, "("+expr+" = '' OR "+v+" IS NOT NULL)")
	return "if(" + expr + " = '', toDateTime(0, 'UTC'), toDateTime(assumeNotNull(" + v + "), 'UTC'))"
}

// tagsFromColumns builds the tags map from columns with prefix.
func (m *mapping) tagsFromColumns(prefix string) string {
	var keys []string
	for c := range m.cols {
		if strings.HasPrefix(c, prefix) {
			keys = append(keys, c)
		}
	}
	if len(keys) == 0 {
		return "map()"
	}
	sort.Strings(keys)
	parts := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		parts = append(parts, chsql.QuoteString(strings.TrimPrefix(k, prefix)), m.col(k))
	}
	return "mapFilter((k, v) -> v != '', map(" + strings.Join(parts, ", ") + "))"
}

func (m *mapping) tagsFromJSON(col string) string {
	if !m.cols[col] {
		return "map()"
	}
	c := m.col(col)
	return "if(" + c + " = '', map(), mapFilter((k, v) -> v != '', JSONExtract(" + c + ", 'Map(String, String)')))"
}

// chargeCategory maps a CUR line item type to FOCUS's ChargeCategory.
func chargeCategory(expr string) string {
	return "multiIf(" + expr + " IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation'), 'Usage', " +
		expr + " = 'Tax', 'Tax', " + expr + " IN ('Credit', 'Refund', 'BundledDiscount', 'EdpDiscount', 'PrivateRateDiscount'), 'Credit', " +
		expr + " IN ('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee'), 'Purchase', 'Adjustment')"
}

// build maps a file's columns to billing_line_items.
func build(f Format, cols []string) *mapping {
	m := newMapping(cols)
	e := m.exprs
	switch f {
	case CUR1, CURAthena, CUR2:
		n := func(cur1, snake string) string {
			if f == CUR1 {
				return cur1
			}
			return snake
		}
		lit := m.col(n("lineItem/LineItemType", "line_item_line_item_type"))
		unblended := m.money(m.col(n("lineItem/UnblendedCost", "line_item_unblended_cost")))
		spEff := m.money(m.col(n("savingsPlan/SavingsPlanEffectiveCost", "savings_plan_savings_plan_effective_cost")))
		riEff := m.money(m.col(n("reservation/EffectiveCost", "reservation_effective_cost")))
		e["provider"] = "'AWS'"
		e["billing_account_id"] = m.col(n("bill/PayerAccountId", "bill_payer_account_id"))
		e["sub_account_id"] = m.col(n("lineItem/UsageAccountId", "line_item_usage_account_id"))
		e["billing_period_start"] = m.date(m.col(n("bill/BillingPeriodStartDate", "bill_billing_period_start_date")))
		e["charge_period_start"] = m.date(m.col(n("lineItem/UsageStartDate", "line_item_usage_start_date")))
		e["charge_period_end"] = m.date(m.col(n("lineItem/UsageEndDate", "line_item_usage_end_date")))
		e["charge_category"] = chargeCategory(lit)
		e["service_name"] = m.first(n("product/ProductName", "product_product_name"), n("lineItem/ProductCode", "line_item_product_code"))
		e["region_id"] = m.first(n("product/region", "product_region"), n("product/regionCode", "product_region_code"))
		e["availability_zone"] = m.col(n("lineItem/AvailabilityZone", "line_item_availability_zone"))
		e["resource_id"] = m.col(n("lineItem/ResourceId", "line_item_resource_id"))
		e["billed_cost"] = unblended
		// The amortized cost: what Savings Plans and reservations make a
		// line cost; their negation lines cost nothing once amortized.
		e["effective_cost"] = "multiIf(" + lit + " = 'SavingsPlanCoveredUsage', " + spEff + ", " + lit + " = 'DiscountedUsage', " + riEff + ", " +
			lit + " = 'SavingsPlanNegation', toDecimal128(0, 12), " + unblended + ")"
		e["list_cost"] = m.money(m.col(n("pricing/publicOnDemandCost", "pricing_public_on_demand_cost")))
		e["billing_currency"] = m.col(n("lineItem/CurrencyCode", "line_item_currency_code"))
		switch f {
		case CUR1:
			e["tags"] = m.tagsFromColumns("resourceTags/")
		case CURAthena:
			e["tags"] = m.tagsFromColumns("resource_tags_")
		default:
			e["tags"] = m.tagsFromJSON("resource_tags")
		}
		e["x_usage_type"] = m.col(n("lineItem/UsageType", "line_item_usage_type"))
		e["x_operation"] = m.col(n("lineItem/Operation", "line_item_operation"))
		e["x_line_item_type"] = lit
		e["x_product_code"] = m.col(n("lineItem/ProductCode", "line_item_product_code"))
	case FOCUS:
		e["provider"] = m.first("ProviderName", "ServiceProviderName")
		e["billing_account_id"] = m.col("BillingAccountId")
		e["sub_account_id"] = m.col("SubAccountId")
		e["billing_period_start"] = m.date(m.col("BillingPeriodStart"))
		e["charge_period_start"] = m.date(m.col("ChargePeriodStart"))
		e["charge_period_end"] = m.date(m.col("ChargePeriodEnd"))
		e["charge_category"] = m.col("ChargeCategory")
		e["service_name"] = m.col("ServiceName")
		e["region_id"] = m.col("RegionId")
		e["availability_zone"] = m.col("AvailabilityZone")
		e["resource_id"] = m.col("ResourceId")
		e["billed_cost"] = m.money(m.col("BilledCost"))
		e["effective_cost"] = m.money(m.col("EffectiveCost"))
		e["list_cost"] = m.money(m.col("ListCost"))
		e["billing_currency"] = m.col("BillingCurrency")
		e["tags"] = m.tagsFromJSON("Tags")
		e["x_usage_type"] = m.first("x_UsageType", "x_usage_type")
		e["x_operation"] = m.first("x_Operation", "x_operation")
		e["x_line_item_type"] = m.first("x_LineItemType", "x_line_item_type")
		e["x_product_code"] = m.first("x_ProductCode", "x_product_code")
	}
	return m
}

// targetColumns are billing_line_items' columns, delivery and source aside.
var targetColumns = []string{"provider", "billing_account_id", "sub_account_id", "billing_period_start", "charge_period_start",
	"charge_period_end", "charge_category", "service_name", "region_id", "availability_zone", "resource_id", "billed_cost",
	"effective_cost", "list_cost", "billing_currency", "tags", "x_usage_type", "x_operation", "x_line_item_type", "x_product_code"}

// FileReport is one file of a delivery.
type FileReport struct {
	Path     string   `json:"path"`
	Format   Format   `json:"format"`
	Rows     int64    `json:"rows"`
	Rejected int64    `json:"rejected"`
	Errors   []string `json:"errors,omitempty"` // the first rejected lines: file:line: reason
	Unmapped []string `json:"unmapped,omitempty"`
}

// Report is one delivery.
type Report struct {
	Delivery string       `json:"delivery"`
	Skipped  bool         `json:"skipped,omitempty"` // already ingested
	Files    []FileReport `json:"files"`
	Periods  []string     `json:"periods"` // "account/YYYY-MM-DD" pairs it now holds
	Kept     []string     `json:"kept,omitempty"`
}

// Ingest loads files as one delivery.
func Ingest(ctx context.Context, s store.Store, paths []string, version string, now time.Time) (Report, error) {
	var rep Report
	if len(paths) == 0 {
		return rep, errors.New("billing: no files")
	}
	abs := make([]string, len(paths))
	h := sha256.New()
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	for i, p := range sorted {
		a, err := filepath.Abs(p)
		if err != nil {
			return rep, err
		}
		abs[i] = a
		f, err := os.Open(a)
		if err != nil {
			return rep, err
		}
		fh := sha256.New()
		_, err = io.Copy(fh, f)
		f.Close()
		if err != nil {
			return rep, err
		}
		fmt.Fprintf(h, "%x\n", fh.Sum(nil))
	}
	rep.Delivery = "billing:" + hex.EncodeToString(h.Sum(nil))[:32]
	l := ledger.New(s, LedgerKind, version)
	done, err := l.Done(ctx, []string{rep.Delivery})
	if err != nil {
		return rep, err
	}
	if done[rep.Delivery] {
		rep.Skipped = true
		return rep, nil
	}
	// A delivery interrupted before it was recorded: its rows are nobody's
	// yet (no period names it), so they go and are loaded again.
	if err := s.Exec(ctx, "DELETE FROM billing_line_items WHERE delivery = {d:String}", store.WithParams(map[string]string{"d": rep.Delivery})); err != nil {
		return rep, fmt.Errorf("billing: %w", err)
	}
	for _, p := range abs {
		fr, err := loadFile(ctx, s, rep.Delivery, p)
		rep.Files = append(rep.Files, fr)
		if err != nil {
			return rep, err
		}
	}
	// The (account, period) pairs of the delivery, and the switch.
	var b strings.Builder
	err = s.Query(ctx, &b, `SELECT DISTINCT concat(billing_account_id, '/', toString(toDate(billing_period_start))) FROM billing_line_items
WHERE delivery = {d:String} ORDER BY 1`, "TSV", store.WithParams(map[string]string{"d": rep.Delivery}))
	if err != nil {
		return rep, err
	}
	for _, period := range strings.Fields(b.String()) {
		ok, err := l.ReplacePeriod(ctx, ledger.Period{Period: period, ID: rep.Delivery, URL: strings.Join(abs, " "), Version: now}, now)
		if err != nil {
			return rep, err
		}
		if ok {
			rep.Periods = append(rep.Periods, period)
		} else {
			rep.Kept = append(rep.Kept, period)
		}
	}
	// The rows of replaced deliveries go (readers already skip them).
	if len(rep.Periods) > 0 {
		err = s.Exec(ctx, `DELETE FROM billing_line_items WHERE concat(billing_account_id, '/', toString(toDate(billing_period_start))) IN {p:Array(String)}
  AND (concat(billing_account_id, '/', toString(toDate(billing_period_start))), delivery) NOT IN (SELECT period, source_id FROM ingest_periods FINAL WHERE kind = 'billing')`,
			store.WithParams(map[string]string{"p": chsql.QuoteStrings(rep.Periods)}))
		if err != nil {
			return rep, fmt.Errorf("billing: delete replaced deliveries: %w", err)
		}
	}
	var rows int64
	for _, f := range rep.Files {
		rows += f.Rows
	}
	return rep, l.Record(ctx, ledger.Entry{ID: rep.Delivery, URL: strings.Join(abs, " "), Read: rows, Stored: rows, StartedAt: now, FinishedAt: now})
}

// loadFile inserts one file's rows; rejected rows are counted and the
// first ones named with their line.
func loadFile(ctx context.Context, s store.Store, delivery, path string) (FileReport, error) {
	fr := FileReport{Path: path}
	cols, err := header(path)
	if err != nil {
		return fr, err
	}
	fr.Format = Detect(cols)
	if fr.Format == NotABill {
		return fr, fmt.Errorf("%s: %w", path, ErrNotABill)
	}
	m := build(fr.Format, cols)
	for _, c := range cols {
		if !m.used[c] {
			fr.Unmapped = append(fr.Unmapped, c)
		}
	}
	structure := make([]string, len(cols))
	for i, c := range cols {
		structure[i] = chsql.QuoteIdent(c) + " String"
	}
	src := "file(" + chsql.QuoteString(path) + ", 'CSVWithNames', " + chsql.QuoteString(strings.Join(structure, ", ")) + ")"
	ok := "1"
	if len(m.checks) > 0 {
		ok = strings.Join(m.checks, " AND ")
	}
	sel := make([]string, 0, len(targetColumns)+3)
	sel = append(sel, chsql.QuoteString(delivery)+" AS delivery")
	for _, t := range targetColumns {
		sel = append(sel, m.exprs[t]+" AS "+t)
	}
	sel = append(sel, chsql.QuoteString(filepath.Base(path))+" AS source_file", "line AS source_line")
	settings := store.WithSettings(map[string]string{"max_threads": "1", "input_format_csv_allow_variable_number_of_columns": "1"})
	// Lines are counted from the header (line 1); a quoted field holding a
	// newline makes later numbers one short per newline.
	inner := "(SELECT *, rowNumberInAllBlocks() + 2 AS line FROM " + src + ")"
	if err := s.Exec(ctx, "INSERT INTO billing_line_items (delivery, "+strings.Join(targetColumns, ", ")+", source_file, source_line) SELECT "+
		strings.Join(sel, ", ")+" FROM "+inner+" WHERE "+ok, settings); err != nil {
		return fr, fmt.Errorf("%s: %w", path, err)
	}
	var b strings.Builder
	err = s.Query(ctx, &b, "SELECT countIf("+ok+"), countIf(NOT ("+ok+")), arrayStringConcat(groupArrayIf(10)(toString(line), NOT ("+ok+")), ',') FROM "+inner, "TSV", settings)
	if err != nil {
		return fr, fmt.Errorf("%s: %w", path, err)
	}
	f := strings.Split(strings.TrimSpace(b.String()), "\t")
	if len(f) >= 2 {
		fr.Rows, _ = strconv.ParseInt(f[0], 10, 64)
		fr.Rejected, _ = strconv.ParseInt(f[1], 10, 64)
	}
	if len(f) == 3 && f[2] != "" {
		for _, line := range strings.Split(f[2], ",") {
			fr.Errors = append(fr.Errors, fmt.Sprintf("%s:%s: an amount or a date does not parse", filepath.Base(path), line))
		}
	}
	return fr, nil
}
