package main

import (
	"context"
	"fmt"

	"github.com/triggerd/triggerd"
)

type checkCmd struct {
	dbFlags
}

// checkFailed is a check that found problems: exit 1, the problems already
// printed.
type checkFailed struct{ n int }

func (e checkFailed) Error() string {
	return fmt.Sprintf("the database has %d problem(s); see above", e.n)
}
func (checkFailed) ExitCode() int { return 1 }

func (c *checkCmd) Run() error {
	ctx := context.Background()
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	problems, err := triggerd.Check(ctx, db)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		return checkFailed{n: len(problems)}
	}
	fmt.Printf("%s: ok\n", c.dbLabel())
	return nil
}
