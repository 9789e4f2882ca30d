package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/triggerd/triggerd/internal/publish"
)

// TestOverloadedAnswers503 checks the answer to a publish refused because
// the group commit queue is full: 503, Retry-After, and a body that says
// nothing was stored. Other errors are left to the caller.
func TestOverloadedAnswers503(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	require.True(t, writeOverloaded(w, fmt.Errorf("publish: %w", publish.ErrOverloaded)))
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Equal(t, "1", w.Header().Get("Retry-After"))
	var body apiError
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	require.Equal(t, "overloaded", body.Error.Code)
	require.Contains(t, body.Error.Message, "nothing was stored")

	other := httptest.NewRecorder()
	require.False(t, writeOverloaded(other, errors.New("publish: commit: disk I/O error")))
	require.Empty(t, other.Header().Get("Retry-After"))
}
