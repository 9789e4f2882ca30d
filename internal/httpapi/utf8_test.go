package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/catalog"
	"github.com/triggerd/triggerd/internal/httpapi"
)

func TestCheckUTF8(t *testing.T) {
	t.Parallel()
	tr, _ := catalog.Demo().Trigger("order.created")
	for body, offset := range map[string]int{
		`{"type":"order.created","data":{"name":"caf` + "\xe9" + `"}}`: 43,
		"\xff{}": 0,
		`{"callbackUrl":"https://example.com/` + "\xc3\x28" + `"}`: 36,
		`{"a":"` + "\xed\xa0\x80" + `"}`:                           6, // a UTF-16 surrogate encoded in UTF-8 is not UTF-8
		`{"a":"` + "\xe2\x82" + `"}`:                               6, // truncated sequence
	} {
		err := httpapi.CheckUTF8([]byte(body))
		var re *httpapi.RequestError
		require.ErrorAs(t, err, &re, body)
		require.Equal(t, http.StatusBadRequest, re.Status)
		require.Equal(t, "invalid_utf8", re.Code)
		require.Contains(t, re.Message, "byte "+strconv.Itoa(offset)+" ", body)

		_, err = httpapi.DecodeEvents([]byte(body))
		require.ErrorAs(t, err, &re)
		require.Equal(t, "invalid_utf8", re.Code, "events refuse it")
		_, err = httpapi.DecodeRegistration([]byte(body), tr)
		require.ErrorAs(t, err, &re)
		require.Equal(t, "invalid_utf8", re.Code, "registrations refuse it")
	}
	require.NoError(t, httpapi.CheckUTF8([]byte(`{"name":"café ☕ 𝄞"}`)))
	require.NoError(t, httpapi.CheckUTF8(nil))
}

// FuzzCheckUTF8: the check agrees with utf8.Valid, never panics, and the
// offset it names is the first byte where the valid prefix ends.
func FuzzCheckUTF8(f *testing.F) {
	for _, seed := range []string{"", "{}", "caf\xe9", "\xff", "\xed\xa0\x80", "ok\xe2\x82", "𝄞\x80"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := httpapi.CheckUTF8(body)
		if utf8.Valid(body) {
			require.NoError(t, err)
			return
		}
		var re *httpapi.RequestError
		require.ErrorAs(t, err, &re)
		off := 0
		for off < len(body) {
			r, size := utf8.DecodeRune(body[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		require.True(t, utf8.Valid(body[:off]))
		require.Contains(t, re.Message, "byte "+strconv.Itoa(off)+" ")
		require.True(t, utf8.ValidString(re.Message), "the message itself is UTF-8")
	})
}
