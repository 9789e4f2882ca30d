package connector_test

import (
	"fmt"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/quick"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/connector"
	"github.com/triggerd/triggerd/connector/lint"
)

// catalogParts are the author-chosen texts of a one-trigger catalog: the
// fields where the catalog's checks and the linter's rules meet.
type catalogParts struct {
	Title, Description, Summary, OperationID, Pattern, Format, PropSummary string
	Polling                                                                bool
}

func (c catalogParts) yaml() string {
	kinds := "[webhook]"
	if c.Polling {
		kinds = "[webhook, polling]"
	}
	return fmt.Sprintf(`connector:
  title: %s
  description: %s
triggers:
  - name: order.paid
    operationId: %s
    summary: %s
    description: This operation triggers when an order is paid.
    kinds: %s
    schema:
      type: object
      properties:
        code: {type: string, pattern: %s, x-ms-summary: %s}
        amount: {type: number, format: %s}
`, strconv.Quote(c.Title), strconv.Quote(c.Description), strconv.Quote(c.OperationID), strconv.Quote(c.Summary),
		kinds, strconv.Quote(c.Pattern), strconv.Quote(c.PropSummary), strconv.Quote(c.Format))
}

// requireAgreement is the property: a catalog that catalog.Parse accepts
// exports a definition that the linter reports with no finding above info.
// It reports whether the catalog was accepted.
func requireAgreement(t *testing.T, parts catalogParts) bool {
	t.Helper()
	cat, err := catalog.Parse([]byte(parts.yaml()), "agree.yaml")
	if err != nil {
		require.NotEmpty(t, err.Error())
		return false
	}
	files, err := connector.Generate(cat, connector.Options{})
	require.NoError(t, err, "a catalog that parses must export: %+v", parts)
	res, err := lint.Lint(files.Definition, lint.Options{Properties: files.Properties})
	require.NoError(t, err)
	for _, f := range res.Findings {
		require.Equal(t, lint.SeverityInfo, f.Severity, "catalog %+v exports %s", parts, f)
	}
	return true
}

func baseParts() catalogParts {
	return catalogParts{
		Title: "Web store", Description: "Orders and payments of the web store, as they happen.",
		Summary: "When an order is paid", OperationID: "OrderPaid", Pattern: "^[A-Z]+$", Format: "double",
		PropSummary: "Code",
	}
}

func TestCatalogAndLintAgreeOnEdgeCases(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		mutate   func(*catalogParts)
		accepted bool
	}{
		{"base", func(*catalogParts) {}, true},
		{"percent and question mark", func(p *catalogParts) { p.Summary = "When an order is 100% paid?" }, false},
		{"ampersand", func(p *catalogParts) { p.Summary = "When an order is paid & shipped" }, false},
		{"asterisk", func(p *catalogParts) { p.Summary = "When an order is paid*" }, false},
		{"slash", func(p *catalogParts) { p.Summary = "When an order is paid/refunded" }, false},
		{"brackets", func(p *catalogParts) { p.Summary = "When an order is paid [beta]" }, false},
		{"parentheses", func(p *catalogParts) { p.Summary = "When an order is paid (card)" }, true},
		{"summary at the limit", func(p *catalogParts) { p.Summary = "When " + strings.Repeat("a", 75) }, true},
		{"summary over the limit", func(p *catalogParts) { p.Summary = "When " + strings.Repeat("a", 76) }, false},
		{"polling summary at the limit", func(p *catalogParts) { p.Polling = true; p.Summary = "When " + strings.Repeat("a", 65) }, true},
		{"polling summary over the limit", func(p *catalogParts) { p.Polling = true; p.Summary = "When " + strings.Repeat("a", 66) }, false},
		{"long operationId", func(p *catalogParts) { p.OperationID = "A" + strings.Repeat("b", 79) }, true},
		{"too long operationId", func(p *catalogParts) { p.OperationID = "A" + strings.Repeat("b", 80) }, false},
		{"polling operationId too long", func(p *catalogParts) { p.Polling = true; p.OperationID = "A" + strings.Repeat("b", 79) }, false},
		{"operationId with underscore", func(p *catalogParts) { p.OperationID = "Order_Paid" }, false},
		{"ECMAScript pattern", func(p *catalogParts) { p.Pattern = "^(?!X-)[A-Z]+$" }, true},
		{"broken pattern", func(p *catalogParts) { p.Pattern = "^([A-Z]+$" }, false},
		{"unknown format", func(p *catalogParts) { p.Format = "decimal" }, true},
		{"int32", func(p *catalogParts) { p.Format = "int32" }, true},
		{"title at the limit", func(p *catalogParts) { p.Title = strings.Repeat("T", 30) }, true},
		{"title over the limit", func(p *catalogParts) { p.Title = strings.Repeat("T", 31) }, false},
		{"property summary restricted", func(p *catalogParts) { p.PropSummary = "Code/number" }, false},
		{"property summary too long", func(p *catalogParts) { p.PropSummary = strings.Repeat("c", 81) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parts := baseParts()
			tc.mutate(&parts)
			require.Equal(t, tc.accepted, requireAgreement(t, parts), "accepted by catalog.Parse")
		})
	}
}

// quickParts generates catalogs whose texts mix letters with every
// character a rule cares about, at lengths around the limits.
func (catalogParts) Generate(r *rand.Rand, _ int) reflect.Value {
	plain := []rune("abcdefghXYZ019 ")
	special := []rune("()-_.,'/\\<>*%&?[]{}éü")
	text := func(prefix string, maxLen int) string {
		n := r.Intn(maxLen + 1)
		b := []rune(prefix)
		for range n {
			if r.Intn(40) == 0 {
				b = append(b, special[r.Intn(len(special))])
			} else {
				b = append(b, plain[r.Intn(len(plain))])
			}
		}
		return string(b)
	}
	p := baseParts()
	p.Summary = text("When ", 80)
	p.Title = text("S", 32)
	p.PropSummary = text("C", 84)
	if r.Intn(2) == 0 {
		p.OperationID = text("O", 84)
	}
	p.Polling = r.Intn(2) == 0
	return reflect.ValueOf(p)
}

func TestCatalogAndLintAgreeQuick(t *testing.T) {
	t.Parallel()
	accepted := 0
	err := quick.Check(func(p catalogParts) bool {
		if requireAgreement(t, p) {
			accepted++
		}
		return true
	}, &quick.Config{MaxCount: 300, Rand: rand.New(rand.NewSource(15))})
	require.NoError(t, err)
	require.Positive(t, accepted, "the generator must produce catalogs the catalog accepts")
}
