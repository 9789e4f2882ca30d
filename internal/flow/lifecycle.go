package flow

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Step is one event in a flow's life that makes the platform call the
// publisher. "The subscribe call happens when the workflow changes in any
// way, for example, when credentials are renewed, or when the input
// parameters change for a trigger or action"; unsubscribe happens on
// "Deleting or disabling the trigger. Deleting or disabling the workflow"
// (https://learn.microsoft.com/azure/logic-apps/logic-apps-workflow-actions-triggers#webhooks-and-subscriptions).
// Each save gives the trigger a new callback URL (the version segment
// changes), and the platform deletes the old webhook "if you update the
// trigger" (https://learn.microsoft.com/connectors/custom-connectors/create-webhook-trigger).
type Step string

// Steps.
const (
	// StepSave is a maker saving the flow (first save or an edit):
	// register with a new callback URL, then DELETE the previous one.
	StepSave Step = "save"
	// StepRenew is the connection's credentials being renewed: the same as
	// a save for the publisher.
	StepRenew Step = "renew"
	// StepDisable is the flow turned off: DELETE the current registration.
	StepDisable Step = "disable"
	// StepEnable is the flow turned on again: register anew.
	StepEnable Step = "enable"
	// StepDelete is the flow deleted: DELETE the current registration.
	StepDelete Step = "delete"
)

// PlatformLifecycle is the "platform" preset: create, edit, credential
// renewal, off, on, delete. It is the sequence that finds both kinds of
// trouble, orphans (a DELETE that does not remove) and duplicates (a
// re-registration that adds instead of replacing).
var PlatformLifecycle = []Step{StepSave, StepSave, StepRenew, StepDisable, StepEnable, StepDelete}

// ParseLifecycle reads a comma-separated list of steps, or "platform".
func ParseLifecycle(s string) ([]Step, error) {
	if strings.TrimSpace(s) == "platform" {
		return slices.Clone(PlatformLifecycle), nil
	}
	var out []Step
	for _, part := range strings.Split(s, ",") {
		st := Step(strings.TrimSpace(part))
		switch st {
		case StepSave, StepRenew, StepDisable, StepEnable, StepDelete:
			out = append(out, st)
		default:
			return nil, fmt.Errorf("flow: --lifecycle step %q: use save, renew, disable, enable and delete separated by commas, or platform (%s)", part, joinSteps(PlatformLifecycle))
		}
	}
	return out, nil
}

func joinSteps(steps []Step) string {
	parts := make([]string, len(steps))
	for i, st := range steps {
		parts[i] = string(st)
	}
	return strings.Join(parts, ",")
}

// StepRecord is what one lifecycle step did and saw.
type StepRecord struct {
	// Number counts steps from 1.
	Number int `json:"number"`
	// Step is the step's name.
	Step Step `json:"step"`
	// Registered is the number of the registration this step made, 0 if
	// none (or if the registration failed).
	Registered int `json:"registered,omitempty"`
	// RegisterStatus is the registration's HTTP status.
	RegisterStatus int `json:"registerStatus,omitempty"`
	// Deleted is the number of the registration this step deleted, 0 if
	// none.
	Deleted int `json:"deleted,omitempty"`
	// DeleteStatus is the DELETE's HTTP status.
	DeleteStatus int `json:"deleteStatus,omitempty"`
	// Active is the registration that should receive notifications after
	// the step, 0 when the flow is off or deleted.
	Active int `json:"active"`
	// Emitted reports whether a notification was asked for successfully.
	Emitted bool `json:"emitted"`
	// Received lists, per registration number, how many notifications
	// arrived after the emit.
	Received map[int]int `json:"received,omitempty"`
	// OK is false when the step produced a finding of severity Error.
	OK bool `json:"ok"`
}

// lifecycle plays the steps. first is the prepared first registration.
func (s *session) lifecycle(ctx context.Context, first *registration) {
	var active *registration
	next := first
	for i, st := range s.cfg.Lifecycle {
		if ctx.Err() != nil {
			s.out.note("stopped before step %d (%s)", i+1, st)
			break
		}
		errorsBefore := len(s.reportErrors())
		rec := StepRecord{Number: i + 1, Step: st}
		s.out.stepStart(rec)
		switch st {
		case StepSave, StepRenew, StepEnable:
			reg := next
			next = nil
			if reg == nil {
				var err error
				if reg, err = s.prepare(); err != nil {
					s.deviate(Error, "register", "registration-failed", "could not build registration for step %d: %v", i+1, err)
					break
				}
			}
			if s.subscribe(ctx, reg) != nil {
				rec.Registered, rec.RegisterStatus = reg.n, reg.status
				if reg.n == 1 && s.cfg.OnSubscribed != nil {
					s.cfg.OnSubscribed(reg.location)
				}
			} else {
				rec.RegisterStatus = reg.status
			}
			// The platform deletes the webhook it replaces, whether or not
			// the new registration worked: the trigger it belonged to is gone.
			if active != nil {
				s.retire(active, st, i+1)
				s.remove(ctx, active)
				rec.Deleted, rec.DeleteStatus = active.n, active.deleteStatus
			}
			active = nil
			if rec.Registered != 0 {
				active = reg
			}
		case StepDisable, StepDelete:
			if active == nil {
				s.out.note("nothing is registered, so the platform sends no DELETE")
				break
			}
			s.retire(active, st, i+1)
			s.remove(ctx, active)
			rec.Deleted, rec.DeleteStatus = active.n, active.deleteStatus
			active = nil
		}
		if active != nil {
			rec.Active = active.n
		}
		if s.cfg.EmitCmd != "" || s.cfg.EmitURL != "" {
			rec.Received, rec.Emitted = s.emitAndObserve(ctx, rec, active)
		}
		rec.OK = len(s.reportErrors()) == errorsBefore && !s.orphanIn(rec.Received)
		s.mu.Lock()
		s.report.Steps = append(s.report.Steps, rec)
		s.mu.Unlock()
		s.out.step(rec)
	}
	if active != nil {
		s.out.note("the lifecycle ends with registration %d active: removing it, as deleting the flow would", active.n)
		s.retire(active, "cleanup", 0)
		s.remove(ctx, active)
	}
}

// retire marks a registration as done with, before its DELETE is sent: from
// then on the platform answers its callback 404.
func (s *session) retire(reg *registration, st Step, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg.retired = true
	if n > 0 {
		reg.retiredBy = fmt.Sprintf("step %d (%s)", n, st)
	} else {
		reg.retiredBy = "the end of the lifecycle"
	}
}

// orphanIn reports whether any of a step's arrivals went to a retired
// registration.
func (s *session) orphanIn(received map[int]int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range received {
		if s.regs[n-1].orphaned {
			return true
		}
	}
	return false
}

func (s *session) reportErrors() []Deviation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.report.Errors()
}

// emitAndObserve makes the publisher emit one notification, waits for it at
// the active registration's callback (if any), keeps listening for Settle,
// and reports orphans and duplicates. It returns the arrivals per
// registration.
func (s *session) emitAndObserve(ctx context.Context, rec StepRecord, active *registration) (map[int]int, bool) {
	arrived, _ := s.recv.since(0)
	mark := len(arrived)
	if err := s.emit(ctx, rec.Step); err != nil {
		// Without the event the step checks nothing, and a green verdict
		// would claim what was never seen.
		s.deviate(Error, "emit", "emit-failed",
			"step %d (%s): the emit did not work, so this step's deliveries were not observed: %v", rec.Number, rec.Step, err)
		return nil, false
	}
	if active != nil {
		deadline := time.NewTimer(s.cfg.EmitWait)
		defer deadline.Stop()
	wait:
		for {
			got, changed := s.recv.since(mark)
			for _, a := range got {
				if a.reg == active && a.accepted {
					break wait
				}
			}
			select {
			case <-changed:
			case <-deadline.C:
				s.deviate(Error, "emit", "notification-missing",
					"step %d (%s): the emitted notification did not reach registration %d, the flow's current callback, within %s; the flow would not have run", rec.Number, rec.Step, active.n, s.cfg.EmitWait)
				break wait
			case <-ctx.Done():
				break wait
			}
		}
	}
	settle := time.NewTimer(s.cfg.Settle)
	select {
	case <-settle.C:
	case <-ctx.Done():
		settle.Stop()
	}
	got, _ := s.recv.since(mark)
	return s.judge(rec, got), true
}

// judge turns one step's arrivals into orphan and duplicate findings.
func (s *session) judge(rec StepRecord, got []arrival) map[int]int {
	counts := map[int]int{}
	orphans := map[int]int{}
	bodies := map[string][]int{} // body → registrations that accepted it
	for _, a := range got {
		counts[a.reg.n]++
		if a.retired {
			orphans[a.reg.n]++
			continue
		}
		if a.accepted {
			body := a.key[strings.IndexByte(a.key, 0)+1:]
			bodies[body] = append(bodies[body], a.reg.n)
		}
	}
	for _, n := range sortedKeys(orphans) {
		// One finding per orphaned registration; later steps show it in
		// their counts.
		s.mu.Lock()
		reg := s.regs[n-1]
		by, seen := reg.retiredBy, reg.orphaned
		reg.orphaned = true
		s.mu.Unlock()
		if seen {
			continue
		}
		s.deviate(Error, "emit", "orphaned-registration",
			"step %d (%s): %d notification(s) went to registration %d, whose callback the platform retired at %s. The publisher kept the old subscription: it fires into a dead callback for every event from now on (the platform answers 404), and its subscriptions pile up with each save. Delete the subscription when the DELETE to its Location arrives",
			rec.Number, rec.Step, orphans[n], n, by)
	}
	for body, regs := range bodies {
		if len(regs) < 2 {
			continue
		}
		s.deviate(Error, "emit", "duplicate-delivery",
			"step %d (%s): one event arrived %d times (registration(s) %v) and started %d runs: %s. A re-registration must replace the old subscription, and a retry must not follow a delivery the callback accepted",
			rec.Number, rec.Step, len(regs), slices.Compact(slices.Sorted(slices.Values(regs))), len(regs), excerpt([]byte(body)))
	}
	return counts
}

func sortedKeys(m map[int]int) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// emit asks the publisher for a notification: runs EmitCmd, or POSTs
// EmitBody to EmitURL with the connection's credentials.
func (s *session) emit(ctx context.Context, st Step) error {
	if s.cfg.EmitCmd != "" {
		cctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
		defer cancel()
		cmd := exec.CommandContext(cctx, "sh", "-c", s.cfg.EmitCmd)
		cmd.Env = append(os.Environ(), "TRIGGERD_FLOW_STEP="+string(st))
		out, err := cmd.CombinedOutput()
		if len(strings.TrimSpace(string(out))) > 0 {
			s.out.note("emit: %s", excerpt(out))
		}
		if err != nil {
			return fmt.Errorf("--emit-cmd: %w", err)
		}
		return nil
	}
	resp, err := s.send(ctx, http.MethodPost, s.cfg.EmitURL, nil, []byte(s.cfg.EmitBody), true)
	if err != nil {
		return fmt.Errorf("--emit-url: %w", err)
	}
	if resp.status < 200 || resp.status > 299 {
		return fmt.Errorf("--emit-url answered %s: %s", resp.text, excerpt(resp.body))
	}
	return nil
}
