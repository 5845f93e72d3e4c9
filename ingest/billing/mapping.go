package billing

import (
	"sort"
	"strings"

	"github.com/furrowdev/furrow/internal/chsql"
)

// mapping is the SQL of each target column for one file.
type mapping struct {
	exprs  map[string]string // target column → expression over the file's columns
	used   map[string]bool
	cols   map[string]string // the file's columns and their engine types
	checks []string          // expressions that must not be NULL (parsable amounts and dates)
}

// newMapping starts the mapping of a file whose columns have the given
// engine types (all String for CSV; what the Parquet schema says
// otherwise).
func newMapping(cols []column) *mapping {
	m := &mapping{exprs: map[string]string{}, used: map[string]bool{}, cols: map[string]string{}}
	for _, c := range cols {
		m.cols[c.Name] = c.Type
	}
	return m
}

// baseType strips Nullable and LowCardinality from an engine type.
func baseType(t string) string {
	for {
		switch {
		case strings.HasPrefix(t, "Nullable(") && strings.HasSuffix(t, ")"):
			t = t[len("Nullable(") : len(t)-1]
		case strings.HasPrefix(t, "LowCardinality(") && strings.HasSuffix(t, ")"):
			t = t[len("LowCardinality(") : len(t)-1]
		default:
			return t
		}
	}
}

// text is a column as text, whatever its type. A Decimal prints every
// digit it holds and a Float64 its shortest exact round trip, so an amount
// is parsed from the digits the source wrote, never through a Float
// conversion of ours; a timestamp prints in UTC.
func (m *mapping) text(name string) string {
	c := chsql.QuoteIdent(name)
	t := m.cols[name]
	switch base := baseType(t); {
	case base == "String" && t == base:
		return c // CSV: every column, no NULL
	case base == "String" || strings.HasPrefix(base, "FixedString"):
		return "ifNull(" + c + ", '')"
	case strings.HasPrefix(base, "DateTime"):
		return "ifNull(toString(" + c + ", 'UTC'), '')"
	case base == "Float64" || base == "Float32":
		return "if(isNull(" + c + "), '', " + floatText("assumeNotNull("+c+")", base) + ")"
	default:
		return "ifNull(toString(" + c + "), '')"
	}
}

// floatText prints a binary float as the decimal it stands for: its
// exact binary value rounded, in decimal arithmetic, to the significant
// digits the type holds (15 for a DOUBLE, 6 for a FLOAT). The engine's own
// toString prints 6.6e-06 as 0.0000065999999999999995, which cut to 12
// digits loses a unit in the last place on every such amount (measured on
// the focus-converters sample: 10 of 14 daily totals off by 1e-12). NaN,
// infinities and magnitudes past 1e30 print as NaN, which does not parse:
// the row is rejected.
func floatText(c, base string) string {
	digits := "14"
	if base == "Float32" {
		digits = "5"
	}
	// Every branch of if() is evaluated: the rounding sees a safe value.
	ok := "(isFinite(" + c + ") AND abs(" + c + ") < 1e30)"
	safe := "if(" + ok + " AND " + c + " != 0, " + c + ", 1)"
	return "if(NOT " + ok + ", 'NaN', if(" + c + " = 0, '0', toString(round(toDecimal256(" + safe + ", 40), toInt32(" +
		digits + " - floor(log10(abs(" + safe + "))))))))"
}

// col is a column of the file as a trimmed string (” when absent; the
// literal NULL of FOCUS exports is empty too).
func (m *mapping) col(name string) string {
	if _, ok := m.cols[name]; !ok {
		return "''"
	}
	m.used[name] = true
	c := "trim(" + m.text(name) + ")"
	// A set lookup, not upper() = 'NULL': no copy of every value.
	return "if(" + c + " IN ('NULL', 'null', 'Null'), '', " + c + ")"
}

// first is the first present column of names.
func (m *mapping) first(names ...string) string {
	for _, n := range names {
		if _, ok := m.cols[n]; ok {
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
		if strings.HasPrefix(c, prefix) && c != prefix {
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

// tagsFromJSON builds the tags map from a column holding a JSON object
// (CUR 2.0 CSV, FOCUS Tags) or, in Parquet, a Map column.
func (m *mapping) tagsFromJSON(col string) string {
	t, ok := m.cols[col]
	if !ok {
		return "map()"
	}
	if strings.HasPrefix(baseType(t), "Map(") {
		m.used[col] = true
		return "mapFilter((k, v) -> v != '', mapApply((k, v) -> (toString(k), trim(ifNull(toString(v), ''))), " + chsql.QuoteIdent(col) + "))"
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
func build(f Format, cols []column) *mapping {
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
