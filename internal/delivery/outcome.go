package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/triggerd/triggerd/internal/metric"
	"github.com/triggerd/triggerd/internal/store"
)

// retryJitterFraction is the most a retry delay is stretched at random (a
// fifth of the step), so receivers recovering from an outage are not hit by
// every retry at once. LongestPending counts it.
const retryJitterFraction = 5

// policy is the retry schedule and its bounds: the one place that turns a
// schedule step into a delay, and an attempt's result into what happens next.
type policy struct {
	// schedule is the delay before each retry; its length is the number of
	// retries.
	schedule []time.Duration
	// retryAfterMax caps how far a receiver's Retry-After pushes a retry.
	retryAfterMax time.Duration
	// jitter returns a random duration in [0, n]; nil means math/rand.
	jitter func(n time.Duration) time.Duration
}

// delay is the wait before attempt number+1: the schedule's step for it,
// with up to a fifth of jitter, and never sooner than the receiver's
// Retry-After (capped at retryAfterMax). number counts from 1 and must be
// within the schedule.
func (p policy) delay(number int, retryAfter time.Duration) time.Duration {
	base := p.schedule[number-1]
	jitter := p.jitter
	if jitter == nil {
		jitter = func(n time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(n) + 1)) }
	}
	d := base + jitter(base/retryJitterFraction)
	if retryAfter > d {
		d = min(retryAfter, p.retryAfterMax)
	}
	return d
}

// LongestPending is the longest a delivery can stay pending under a retry
// schedule: every step with its full jitter, plus a timeout per attempt. A
// delivery reads its event's data when it runs, so the event log's retention
// must be longer. (A receiver's Retry-After can stretch a step further, up to
// the engine's cap; that is not counted.)
func LongestPending(schedule []time.Duration, timeout time.Duration) time.Duration {
	var total time.Duration
	for _, d := range schedule {
		total += d + d/retryJitterFraction
	}
	return total + time.Duration(len(schedule)+1)*timeout
}

// nextStep is what follows an attempt.
type nextStep int

const (
	// stepDone: delivered; nothing follows.
	stepDone nextStep = iota
	// stepRetry: another attempt is due after outcome.retryIn.
	stepRetry
	// stepStop: no further attempt (a permanent failure, the schedule is
	// used up, or the flow is gone).
	stepStop
)

// attemptInput is one finished POST and what it was for.
type attemptInput struct {
	subscriptionID string
	// trigger labels the attempt's metrics and log line.
	trigger   string
	messageID string
	eventIDs  []string
	// committed is when the event was accepted: a delivered first success
	// is observed as its latency. Zero for batches, whose events waited
	// their window on purpose.
	committed time.Time
	// number counts attempts of this delivery from 1.
	number  int
	started time.Time
	result  Result
}

// outcome is an attempt's result decided once, for the fast path and the
// queue alike: the record to store (with the subscription's deactivation
// when the flow is gone), the next step and its delay.
type outcome struct {
	record  store.AttemptRecord
	next    nextStep
	retryIn time.Duration
	trigger string
	// exhausted says the retry schedule was used up by this attempt.
	exhausted bool
	// latency is from the event's commit to the end of this attempt, when
	// it is the first successful one (zero otherwise).
	latency time.Duration
}

// decide turns an attempt into its outcome.
func (p policy) decide(in attemptInput) outcome {
	v, reason := classify(in.result)
	o := outcome{record: store.AttemptRecord{Attempt: store.Attempt{
		SubscriptionID: in.subscriptionID,
		WebhookID:      in.messageID,
		EventIDs:       in.eventIDs,
		Number:         in.number,
		StartedAt:      in.started,
		Duration:       in.result.Duration,
		Status:         in.result.Status,
		Error:          reason,
		Response:       responseText(in.result.Response),
	}}, trigger: in.trigger}
	a := &o.record.Attempt
	switch v {
	case verdictDelivered:
		a.Outcome = store.AttemptDelivered
		o.next = stepDone
		if !in.committed.IsZero() {
			o.latency = in.started.Add(in.result.Duration).Sub(in.committed)
		}
	case verdictGone:
		a.Outcome = store.AttemptGone
		o.record.Deactivate = reason
		o.next = stepStop
	case verdictFailed:
		a.Outcome = store.AttemptFailed
		o.next = stepStop
	case verdictRetry:
		if in.number > len(p.schedule) {
			a.Outcome = store.AttemptFailed
			a.Error = fmt.Sprintf("%s; gave up after %d %s", reason, in.number, plural(in.number, "attempt", "attempts"))
			o.next = stepStop
			o.exhausted = true
			break
		}
		o.retryIn = p.delay(in.number, in.result.RetryAfter)
		next := in.started.Add(in.result.Duration + o.retryIn)
		a.Outcome = store.AttemptRetry
		a.NextAttemptAt = &next
		o.next = stepRetry
	}
	return o
}

// err is the reason a stopped delivery stopped, for River's job record.
func (o outcome) err() error { return errors.New(o.record.Attempt.Error) }

// logAttrs are the fields of an attempt's log line. They name the
// subscription, trigger, message and events, never the callback URL: its
// query carries the platform's signature.
func (o outcome) logAttrs() []any {
	a := o.record.Attempt
	attrs := []any{"subscription", a.SubscriptionID, "trigger", o.trigger, "message", a.WebhookID,
		"events", a.EventIDs, "attempt", a.Number, "outcome", a.Outcome, "status", a.Status,
		"duration_ms", float64(a.Duration.Microseconds()) / 1000, "reason", a.Error}
	if o.latency > 0 {
		attrs = append(attrs, "latency_ms", float64(o.latency.Microseconds())/1000)
	}
	if a.NextAttemptAt != nil {
		attrs = append(attrs, "next_attempt_at", a.NextAttemptAt.UTC().Format(time.RFC3339Nano))
	}
	return attrs
}

// Notice is a recorded attempt as the engine's OnAttempt hook sees it: what
// operational alerts are raised from.
type Notice struct {
	SubscriptionID string
	Trigger        string
	EventIDs       []string
	Outcome        store.AttemptOutcome
	// Exhausted says the retry schedule was used up: no attempt follows.
	Exhausted bool
	// Deactivated is set when the subscription turned inactive (the
	// callback answered 404 or 410).
	Deactivated string
}

// report writes the attempt's line (failures at info, successes at debug),
// counts it in the metrics and passes it to the hook, once the attempt is
// recorded. A callback that answered gone also changes its subscription's
// state: that is a line of its own, at warn, since deliveries to it stop.
func (o outcome) report(l *slog.Logger, m *metric.Metrics, hook func(Notice)) {
	a := o.record.Attempt
	if hook != nil {
		hook(Notice{SubscriptionID: a.SubscriptionID, Trigger: o.trigger, EventIDs: a.EventIDs, Outcome: a.Outcome,
			Exhausted: o.exhausted, Deactivated: o.record.Deactivate})
	}
	m.Attempt(o.trigger, string(a.Outcome), a.Duration)
	if o.latency > 0 {
		m.Delivered(o.trigger, o.latency)
	}
	if a.Outcome == store.AttemptDelivered {
		// Most attempts succeed and debug is usually off: the line's
		// attributes (a dozen allocations) are built only if it is written.
		if l.Enabled(context.Background(), slog.LevelDebug) {
			l.Debug("delivery attempt", o.logAttrs()...)
		}
		return
	}
	l.Info("delivery attempt failed", o.logAttrs()...)
	if o.record.Deactivate != "" {
		l.Warn("subscription state changed", "subscription", a.SubscriptionID, "trigger", o.trigger,
			"state", store.SubscriptionInactive, "reason", "gone", "detail", o.record.Deactivate)
	}
}

// responseText is a response excerpt as text the database stores: invalid
// UTF-8 (a rune cut at the excerpt's end, a binary body) and NUL bytes, which
// PostgreSQL's text refuses, become U+FFFD.
func responseText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", "\uFFFD")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
