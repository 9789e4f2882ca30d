package httpapi

import (
	"errors"
	"net/http"

	"github.com/triggerd/triggerd/internal/signature"
	"github.com/triggerd/triggerd/internal/store"
)

// credentialView is v with the subscription's credentials in clear: the
// callback URL as registered and the signing secret. Only two answers carry
// them: the 201 of the registration that created them, and the rotation
// that replaces the secret. Everything else a key can read shows view's
// redacted form, so a key that can list subscriptions cannot harvest the
// URLs that start the makers' flows.
func credentialView(v SubscriptionView, s store.Subscription) SubscriptionView {
	v.CallbackURL = s.CallbackURL
	v.Secret = s.Secret
	return v
}

// rotateSecret answers POST /v1/webhooks/{id}/secret: a new signing secret,
// shown once in the answer. Until SecretGrace has passed, deliveries carry a
// signature with the new and one with the previous secret, so the receiver
// can switch without losing notifications. A deleted subscription has no
// secret to rotate.
func (a *api) rotateSecret(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r)
	id := r.PathValue("id")
	secret, err := signature.NewSecret()
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	sub, err := a.Store.RotateSubscriptionSecret(r.Context(), tenant.ID, id, secret, a.Now(), a.SecretGrace)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no live webhook with this id (a deleted one keeps no secret)")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Logger.InfoContext(r.Context(), "subscription secret rotated", "tenant", tenant.Name, "subscription", sub.ID)
	v := a.view(sub)
	v.Secret = sub.Secret
	writeJSON(w, http.StatusOK, v)
}
