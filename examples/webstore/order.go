package main

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Order statuses, WooCommerce's, since the seed's example is a web store of
// that kind. Any status may follow any other, as in WooCommerce, where a
// shop manager can correct a mistake.
var orderStatuses = []string{"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"}

// statusDefault is the status of a new order that does not name one.
const statusDefault = "pending"

// Limits of a request: an order's size, so that no request makes a row or a
// notification unreasonably large, and a list's length.
const (
	lineItemsMax     = 100
	quantityMax      = 10_000
	textMax          = 200
	listLimitMax     = 100
	listLimitDefault = 50
)

// Order is an order as the API returns it and as order.status_changed
// notifications carry it. Field names follow WooCommerce's REST API.
type Order struct {
	ID           int64      `json:"id"`
	OrderKey     string     `json:"order_key"`
	Status       string     `json:"status"`
	Currency     string     `json:"currency"`
	Total        Money      `json:"total"`
	Customer     Customer   `json:"customer"`
	LineItems    []LineItem `json:"line_items"`
	DateCreated  time.Time  `json:"date_created"`
	DateModified time.Time  `json:"date_modified"`
}

// Customer is who placed an order.
type Customer struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// LineItem is one product line of an order.
type LineItem struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Quantity int    `json:"quantity"`
	Price    Money  `json:"price"`
	Total    Money  `json:"total"`
}

// orderCreated is the body of an order.created notification: the id and
// key only (see orderCreatedSchema).
type orderCreated struct {
	ID       int64  `json:"id"`
	OrderKey string `json:"order_key"`
}

// orderStatusChanged is the body of an order.status_changed notification:
// the whole order and the status it had before.
type orderStatusChanged struct {
	Order
	PreviousStatus string `json:"previous_status"`
}

// Money is an amount in minor units (cents), so totals add up exactly; it
// is written in JSON as a number with two decimals, like 42.50. Every
// currency is assumed to have two decimals, which is enough for an example.
type Money int64

// MarshalJSON writes m as a JSON number with two decimals.
func (m Money) MarshalJSON() ([]byte, error) {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Appendf(nil, "%s%d.%02d", sign, v/100, v%100), nil
}

// UnmarshalJSON reads a number written by MarshalJSON, for clients and
// tests that decode orders.
func (m *Money) UnmarshalJSON(b []byte) error {
	v, err := parseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

var moneyRe = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$`)

// parseMoney reads a decimal amount with at most two decimals.
func parseMoney(s string) (Money, error) {
	if !moneyRe.MatchString(s) {
		return 0, fmt.Errorf("%s is not an amount below 1000000000 with at most 2 decimals, like 12.50", s)
	}
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s is too large", s)
	}
	frac = (frac + "00")[:2]
	f, _ := strconv.ParseInt(frac, 10, 64) // two digits, checked by moneyRe
	v := Money(w*100 + f)
	if neg {
		v = -v
	}
	return v, nil
}

// newOrderRequest is the body of POST /v1/orders.
type newOrderRequest struct {
	OrderKey  string   `json:"order_key"`
	Status    string   `json:"status"`
	Currency  string   `json:"currency"`
	Customer  Customer `json:"customer"`
	LineItems []struct {
		SKU      string      `json:"sku"`
		Name     string      `json:"name"`
		Quantity json.Number `json:"quantity"`
		Price    json.Number `json:"price"`
	} `json:"line_items"`
}

// statusRequest is the body of PATCH /v1/orders/{id}.
type statusRequest struct {
	Status *string `json:"status"`
}

// inputError is a request that breaks a rule: the API answers it with
// status, and a code and a message saying what to fix, in triggerd's error
// shape.
type inputError struct {
	status  int
	code    string
	message string
}

func (e *inputError) Error() string { return e.message }

func invalid(format string, args ...any) *inputError {
	return &inputError{status: http.StatusUnprocessableEntity, code: "invalid_request", message: fmt.Sprintf(format, args...)}
}

var (
	orderKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
)

// validate turns a request into an order, or says what is wrong with it.
func (req *newOrderRequest) validate(now time.Time) (Order, error) {
	o := Order{
		OrderKey:     req.OrderKey,
		Status:       req.Status,
		Currency:     req.Currency,
		DateCreated:  now,
		DateModified: now,
	}
	if o.OrderKey == "" {
		o.OrderKey = newOrderKey()
	} else if !orderKeyRe.MatchString(o.OrderKey) {
		return o, invalid("order_key %q must be 1 to 64 letters, digits, _ or -; leave it out to have one made", o.OrderKey)
	}
	if o.Status == "" {
		o.Status = statusDefault
	} else if !slices.Contains(orderStatuses, o.Status) {
		return o, invalid("status %q is not one of %s", o.Status, strings.Join(orderStatuses, ", "))
	}
	if !currencyRe.MatchString(o.Currency) {
		return o, invalid("currency %q must be an ISO 4217 code of 3 capital letters, like EUR", o.Currency)
	}
	o.Customer.Name = strings.TrimSpace(req.Customer.Name)
	if o.Customer.Name == "" || len(o.Customer.Name) > textMax {
		return o, invalid("customer.name is required, at most %d bytes", textMax)
	}
	addr, err := mail.ParseAddress(req.Customer.Email)
	if err != nil || addr.Name != "" {
		return o, invalid("customer.email %q is not an email address like ana@example.com", req.Customer.Email)
	}
	o.Customer.Email = addr.Address
	if n := len(req.LineItems); n == 0 || n > lineItemsMax {
		return o, invalid("line_items must have 1 to %d items; it has %d", lineItemsMax, n)
	}
	for i, li := range req.LineItems {
		at := fmt.Sprintf("line_items[%d]", i)
		item := LineItem{SKU: strings.TrimSpace(li.SKU), Name: strings.TrimSpace(li.Name)}
		if item.SKU == "" || len(item.SKU) > textMax {
			return o, invalid("%s.sku is required, at most %d bytes", at, textMax)
		}
		if item.Name == "" || len(item.Name) > textMax {
			return o, invalid("%s.name is required, at most %d bytes", at, textMax)
		}
		q, err := strconv.Atoi(li.Quantity.String())
		if err != nil || q < 1 || q > quantityMax {
			return o, invalid("%s.quantity must be a whole number from 1 to %d", at, quantityMax)
		}
		item.Quantity = q
		if li.Price == "" {
			return o, invalid("%s.price is required", at)
		}
		if item.Price, err = parseMoney(li.Price.String()); err != nil || item.Price < 0 {
			return o, invalid("%s.price must be an amount from 0 to 999999999.99 with at most 2 decimals, like 12.50", at)
		}
		item.Total = item.Price * Money(q)
		o.Total += item.Total
		o.LineItems = append(o.LineItems, item)
	}
	return o, nil
}

// newOrderKey makes a key like WooCommerce's: wc_order_ and 13 random
// characters.
func newOrderKey() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return "wc_order_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
