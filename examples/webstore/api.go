package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/triggerd/triggerd"
)

// requestBodyMax bounds a request body: a full order of lineItemsMax lines
// fits many times over.
const requestBodyMax = 1 << 20

// routes is the whole HTTP surface in one mux: triggerd's API (webhook
// registration and deletion, events, the connector definition at
// GET /v1/openapi.json, /healthz) and the web store's own order endpoints.
// ServeMux sends each request to the most specific pattern, so the order
// routes win over triggerd's catch-all /v1/.
func (s *shop) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", s.pub.Handler())
	mux.Handle("GET /healthz", s.pub.Handler())

	mux.Handle("POST /v1/orders", s.auth(s.handleCreate))
	mux.Handle("GET /v1/orders", s.auth(s.handleList))
	mux.Handle("GET /v1/orders/{id}", s.auth(s.handleGet))
	mux.Handle("PATCH /v1/orders/{id}", s.auth(s.handleUpdate))
	// Without these, another method on an order path would reach triggerd's
	// catch-all and get a 404 that hides the route exists.
	mux.Handle("/v1/orders", methodNotAllowed("GET, POST"))
	mux.Handle("/v1/orders/{id}", methodNotAllowed("GET, PATCH"))
	return mux
}

// tenantHandler is a handler for an authenticated tenant.
type tenantHandler func(w http.ResponseWriter, r *http.Request, tenant string)

// auth authenticates with the same X-API-Key as triggerd's own endpoints:
// the generated connector sends the connection's key on every operation,
// the order actions included. The key's tenant owns the orders.
func (s *shop) auth(next tenantHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, err := s.pub.Authenticate(r)
		if errors.Is(err, triggerd.ErrUnauthorized) {
			writeError(w, http.StatusUnauthorized, "unauthorized",
				err.Error()+": create a key with `go run ./examples/webstore --create-key TENANT`")
			return
		}
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		next(w, r, tenant)
	})
}

func (s *shop) handleCreate(w http.ResponseWriter, r *http.Request, tenant string) {
	var req newOrderRequest
	if err := decodeBody(w, r, &req); err != nil {
		s.writeErr(w, r, err)
		return
	}
	o, err := req.validate(s.now())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	created, err := s.createOrder(r.Context(), tenant, o)
	if errors.Is(err, errDuplicateKey) {
		writeError(w, http.StatusConflict, "conflict",
			fmt.Sprintf("an order with order_key %q already exists; nothing was created or published", o.OrderKey))
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("%s/v1/orders/%d", s.publicURL, created.ID))
	writeJSON(w, http.StatusCreated, created)
}

func (s *shop) handleGet(w http.ResponseWriter, r *http.Request, tenant string) {
	id, err := orderID(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	o, err := s.order(r.Context(), tenant, id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *shop) handleUpdate(w http.ResponseWriter, r *http.Request, tenant string) {
	id, err := orderID(r)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	var req statusRequest
	if err := decodeBody(w, r, &req); err != nil {
		s.writeErr(w, r, err)
		return
	}
	switch {
	case req.Status == nil:
		s.writeErr(w, r, invalid("status is required; only the status of an order can change"))
		return
	case !slices.Contains(orderStatuses, *req.Status):
		s.writeErr(w, r, invalid("status %q is not one of %s", *req.Status, strings.Join(orderStatuses, ", ")))
		return
	}
	o, err := s.updateStatus(r.Context(), tenant, id, *req.Status)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *shop) handleList(w http.ResponseWriter, r *http.Request, tenant string) {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && !slices.Contains(orderStatuses, status) {
		s.writeErr(w, r, &inputError{http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("status %q is not one of %s", status, strings.Join(orderStatuses, ", "))})
		return
	}
	limit := listLimitDefault
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > listLimitMax {
			s.writeErr(w, r, &inputError{http.StatusBadRequest, "invalid_request",
				fmt.Sprintf("limit %q must be a whole number from 1 to %d", v, listLimitMax)})
			return
		}
		limit = n
	}
	orders, err := s.orders(r.Context(), tenant, status, limit)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": orders})
}

// orderID reads the {id} of an order path.
func orderID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, &inputError{http.StatusBadRequest, "invalid_request", fmt.Sprintf("order id %q must be a positive whole number", v)}
	}
	return id, nil
}

// decodeBody reads one JSON object into v, refusing unknown fields (a
// misspelt field would otherwise be dropped without a word) and anything
// after the object.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, requestBodyMax))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &inputError{http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("the body is larger than %d bytes", requestBodyMax)}
		}
		return &inputError{http.StatusBadRequest, "invalid_request", "could not read the body: " + err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return invalid("%s must be a JSON %s, not %s", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return invalid("%s; see GET /v1/openapi.json for the fields", strings.TrimPrefix(err.Error(), "json: "))
		default:
			return &inputError{http.StatusBadRequest, "invalid_json", "the body is not valid JSON: " + err.Error()}
		}
	}
	if dec.More() {
		return &inputError{http.StatusBadRequest, "invalid_json", "the body must be one JSON object"}
	}
	return nil
}

// jsonKind names the JSON type a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	if t == reflect.TypeFor[json.Number]() || t == reflect.TypeFor[Money]() {
		return "number"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	default:
		return "number"
	}
}

// writeErr answers err: a request mistake with its status, a missing order
// with 404 (also another tenant's: a tenant cannot learn which ids exist),
// anything else with 500.
func (s *shop) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var ie *inputError
	switch {
	case errors.As(err, &ie):
		writeError(w, ie.status, ie.code, ie.message)
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no order %s", r.PathValue("id")))
	case errors.Is(err, errConcurrent):
		writeError(w, http.StatusConflict, "conflict", "the order changed while it was being updated; read it again and retry")
	default:
		s.internalError(w, r, err)
	}
}

func (s *shop) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, "internal", "the web store could not complete the request; nothing was changed. Retry later.")
}

func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s %s is not supported; use %s", r.Method, r.URL.Path, allow))
	})
}

// apiError is triggerd's error shape, {"error": {"code", "message"}}, used
// for the order endpoints too so a client handles one shape.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, message
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}
