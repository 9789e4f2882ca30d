package publish

// SetGroupHook makes p's committer call hook before each group commit, so a
// test can hold a commit in progress while requests queue behind it, and
// count the groups.
func SetGroupHook(p *Publisher, hook func()) { p.group.hook = hook }

// Waiting returns how many Publish calls wait for the next group.
func Waiting(p *Publisher) int {
	p.group.mu.Lock()
	defer p.group.mu.Unlock()
	return len(p.group.queue)
}

// SetCommittingHook makes p's committer call hook once a group's requests
// are chosen, before their transaction, so a test can end a caller's
// context while its events are being committed.
func SetCommittingHook(p *Publisher, hook func()) { p.group.committing = hook }
