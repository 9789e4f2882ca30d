package flow

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// FaultRecord is what the publisher did with one notification after the
// callback answered it with an injected fault (Config.CallbackStatus,
// CallbackDelay): the platform's real answers when it throttles ("Request
// and webhook triggers return 429 errors" when too many runs wait,
// https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers),
// when the flow is gone (404), when the engine fails (5xx) or is slow.
type FaultRecord struct {
	// Registration is the registration the notification was sent to.
	Registration int `json:"registration"`
	// Attempts lists every delivery of the notification, in order.
	Attempts []FaultAttempt `json:"attempts"`
	// Delivered reports whether an attempt was accepted (a run started).
	Delivered bool `json:"delivered"`
	// Outcome says in a sentence what the publisher did.
	Outcome string `json:"outcome"`
}

// FaultAttempt is one delivery of a notification.
type FaultAttempt struct {
	// At is when it arrived.
	At time.Time `json:"at"`
	// After is the time since the previous attempt's answer (or, for a
	// publisher that hung up on a slow answer, since it hung up); 0 for the
	// first.
	After time.Duration `json:"after"`
	// Status is what the callback answered.
	Status int `json:"status"`
	// Fault reports whether the answer was injected.
	Fault bool `json:"fault"`
	// HungUpAfter is how long the publisher waited for a delayed answer
	// before it closed the connection; 0 if it waited for it.
	HungUpAfter time.Duration `json:"hungUpAfter,omitempty"`
}

// faultReport groups the arrivals by notification and judges what the
// publisher did after each injected fault.
func (s *session) faultReport() {
	if s.recv == nil || (s.cfg.CallbackStatus == 0 && s.cfg.CallbackDelay == 0) {
		return
	}
	all, _ := s.recv.since(0)
	var order []string
	byKey := map[string][]arrival{}
	for _, a := range all {
		if a.retired {
			continue
		}
		if _, ok := byKey[a.key]; !ok {
			order = append(order, a.key)
		}
		byKey[a.key] = append(byKey[a.key], a)
	}
	for _, key := range order {
		as := byKey[key]
		if !as[0].fault {
			continue
		}
		rec := s.judgeFault(as)
		s.mu.Lock()
		s.report.Faults = append(s.report.Faults, rec)
		s.mu.Unlock()
		s.out.fault(rec)
	}
}

// answered is when an attempt's answer left (or the publisher hung up).
func (s *session) answered(a arrival) time.Time {
	switch {
	case a.hung > 0:
		return a.at.Add(a.hung)
	case a.fault && s.cfg.CallbackDelay > 0:
		return a.at.Add(s.cfg.CallbackDelay)
	}
	return a.at
}

func (s *session) judgeFault(as []arrival) FaultRecord {
	rec := FaultRecord{Registration: as[0].reg.n}
	if d := s.cfg.CallbackDelay; d > 0 {
		// A publisher sends a notification again while an earlier attempt
		// is still waiting for its answer only if it gave up on that one:
		// infer the hang-up the connection may not have reported yet.
		for i := range len(as) - 1 {
			if as[i].fault && as[i].hung == 0 && as[i+1].at.Before(as[i].at.Add(d)) {
				as[i].hung = as[i+1].at.Sub(as[i].at)
			}
		}
	}
	accepted := 0
	for i, a := range as {
		at := FaultAttempt{At: a.at.UTC(), Status: a.status, Fault: a.fault, HungUpAfter: a.hung}
		if i > 0 {
			at.After = max(a.at.Sub(s.answered(as[i-1])), 0)
		}
		if a.accepted {
			accepted++
			rec.Delivered = true
		}
		rec.Attempts = append(rec.Attempts, at)
	}
	tries := len(as)
	first := as[0]
	var parts []string
	// Slow answers: did the publisher wait, and did it send again a
	// notification whose run had already started?
	if s.cfg.CallbackDelay > 0 {
		if first.hung > 0 {
			parts = append(parts, fmt.Sprintf("hung up after %s of the %s delay (its delivery timeout)", round(first.hung), s.cfg.CallbackDelay))
		} else {
			parts = append(parts, fmt.Sprintf("waited the full %s for the answer", s.cfg.CallbackDelay))
		}
		if accepted > 1 {
			s.deviate(Error, "callback", "duplicate-delivery",
				"the publisher sent a notification %d times after a slow answer; the platform starts a run as soon as it has the request, so every copy is one more run of the flow. Give up on a slow callback without resending, or send an idempotency key the flow can check", accepted)
		}
	}
	status := s.cfg.CallbackStatus
	if status != 0 {
		switch {
		case tries == 1 && status == http.StatusNotFound:
			parts = append(parts, "stopped after the 404, as it should for a flow that is gone")
		case tries == 1 && (status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500):
			parts = append(parts, fmt.Sprintf("gave up after 1 try: no retry after %d", status))
			s.deviate(Error, "callback", "notification-lost",
				"the callback answered %d and the publisher never sent the notification again, so the event is lost. The platform answers 429 when too many runs wait and 5xx when it fails; retry those (and 408 and network errors) with backoff, honouring Retry-After", status)
		case tries == 1:
			parts = append(parts, fmt.Sprintf("did not retry after %d", status))
		default:
			parts = append(parts, fmt.Sprintf("tried %d times", tries))
			if status == http.StatusNotFound {
				s.deviate(Warning, "callback", "retried-after-404",
					"the publisher sent a notification %d times to a callback that answered 404. A 404 from the callback means the flow is gone or was saved with a new callback URL; stop delivering to that subscription (keep it, marked inactive, until the platform's DELETE arrives) rather than retrying", tries)
			}
		}
		if tries > 1 {
			var gaps []string
			for _, at := range rec.Attempts[1:] {
				gaps = append(gaps, round(at.After).String())
			}
			parts = append(parts, "retried after "+strings.Join(gaps, ", "))
		}
		if want := s.cfg.CallbackRetryAfter; want > 0 && tries > 1 {
			scaled := time.Duration(int64(want.Round(time.Second)/time.Second)) * s.cfg.RetryAfterUnit
			early := 0
			for i, at := range rec.Attempts[1:] {
				if as[i].fault && at.After < scaled {
					early++
				}
			}
			if early > 0 {
				parts = append(parts, fmt.Sprintf("ignored Retry-After: %d", int(want/time.Second)))
				s.deviate(Warning, "callback", "retry-after-ignored",
					"the publisher retried %d time(s) sooner than the callback's Retry-After: %d asked. Behind a 429 the platform is shedding load; a retry before Retry-After is refused again and counts against the connection's throttle", early, int(want/time.Second))
			} else {
				parts = append(parts, fmt.Sprintf("honoured Retry-After: %d", int(want/time.Second)))
			}
		}
		if !rec.Delivered && tries > 1 {
			parts = append(parts, fmt.Sprintf("had not delivered it when flow stopped (gave up or still retrying after %d tries)", tries))
			if status == http.StatusTooManyRequests || status >= 500 {
				parts = append(parts, "the event was never delivered")
			}
		}
	}
	if rec.Delivered {
		for i, a := range as {
			if a.accepted {
				parts = append(parts, fmt.Sprintf("delivered on try %d", i+1))
				break
			}
		}
	}
	rec.Outcome = "the publisher " + strings.Join(parts, "; ")
	return rec
}

// round shortens a duration for messages.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}
