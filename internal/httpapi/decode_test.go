package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/httpapi"
)

func TestDecodeRegistration(t *testing.T) {
	t.Parallel()
	tr, _ := catalog.Demo().Trigger("order.updated")
	reg, err := httpapi.DecodeRegistration([]byte(`{"callbackUrl":"https://x.example/a?sig=%2F","status":"paid"}`), tr)
	require.NoError(t, err)
	require.Equal(t, "https://x.example/a?sig=%2F", reg.CallbackURL)
	require.Equal(t, map[string]string{"status": "paid"}, reg.Filters)

	reg, err = httpapi.DecodeRegistration([]byte(`{"callbackUrl":"https://x.example/a","status":""}`), tr)
	require.NoError(t, err)
	require.Empty(t, reg.Filters, "an empty filter is no filter")

	_, err = httpapi.DecodeRegistration([]byte(`{"callbackUrl":"https://x.example/a","total":"1"}`), tr)
	var re *httpapi.RequestError
	require.ErrorAs(t, err, &re)
	require.Equal(t, http.StatusUnprocessableEntity, re.Status)
	require.Contains(t, re.Message, "allowed fields: callbackUrl, status")
}

func TestDecodeEvents(t *testing.T) {
	t.Parallel()
	in, err := httpapi.DecodeEvents([]byte(` {"type":"order.created","id":"k1","data":{"id":1}}`))
	require.NoError(t, err)
	require.Len(t, in, 1)
	require.Equal(t, "k1", in[0].ID)
	require.JSONEq(t, `{"id":1}`, string(in[0].Data))

	in, err = httpapi.DecodeEvents([]byte(`[{"type":"a","data":1},{"type":"b","data":2}]`))
	require.NoError(t, err)
	require.Len(t, in, 2)

	for _, bad := range []string{``, `nul`, `[`, `{"type":1}`, `[1]`, `{"type":"a"} {}`, `"x"`} {
		_, err := httpapi.DecodeEvents([]byte(bad))
		require.Error(t, err, bad)
	}
}

// The decoders see raw bytes from the internet: no input may panic them, and
// whatever they accept must be well-formed.
func FuzzDecodeRegistration(f *testing.F) {
	tr, _ := catalog.Demo().Trigger("order.updated")
	for _, seed := range []string{
		`{"callbackUrl":"https://prod-1.logic.azure.com/workflows/x/run?sp=%2Ftriggers&sig=a","status":"paid"}`,
		`{"callbackUrl":""}`, `{}`, `[]`, `{"callbackUrl":1}`, `{"status":null,"callbackUrl":"x"}`, `{"a":`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reg, err := httpapi.DecodeRegistration(body, tr)
		if err != nil {
			var re *httpapi.RequestError
			require.ErrorAs(t, err, &re)
			require.NotEmpty(t, re.Message)
			return
		}
		require.True(t, json.Valid(body))
		require.True(t, utf8.Valid(body), "accepted bodies are UTF-8")
		for k := range reg.Filters {
			require.Equal(t, "status", k)
		}
	})
}

func FuzzDecodeEvents(f *testing.F) {
	for _, seed := range []string{
		`{"type":"order.created","id":"k","data":{"id":1,"order_key":"k","status":"new"}}`,
		`[{"type":"order.created","data":{}},{"type":"x","data":null}]`, `[]`, `{}`, `[1,2]`, `{"data":`, "\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		inputs, err := httpapi.DecodeEvents(body)
		if err != nil {
			var re *httpapi.RequestError
			require.ErrorAs(t, err, &re)
			return
		}
		require.True(t, json.Valid(body))
		require.True(t, utf8.Valid(body), "accepted bodies are UTF-8")
		for _, in := range inputs {
			require.True(t, utf8.ValidString(in.Type))
			if len(in.Data) > 0 {
				require.True(t, json.Valid(in.Data))
			}
		}
	})
}
